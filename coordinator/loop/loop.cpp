#include "loop.hpp"

#include <uv.h>

#include <cstdlib>
#include <mutex>

namespace gaffer::loop {

struct Loop::Impl {
    uv_loop_t loop{};
    uv_async_t wake{};
    std::mutex mutex;
    std::vector<std::function<void()>> mailbox;
};

Loop::Loop() : impl_(std::make_unique<Impl>()) {
    if (uv_loop_init(&impl_->loop) != 0) std::abort();
    impl_->wake.data = impl_.get();
    uv_async_init(&impl_->loop, &impl_->wake, [](uv_async_t* handle) {
        auto* impl = static_cast<Impl*>(handle->data);
        // Sends coalesce: drain everything that is there now.
        std::vector<std::function<void()>> batch;
        {
            std::lock_guard lock(impl->mutex);
            batch.swap(impl->mailbox);
        }
        for (auto& fn : batch) fn();
    });
}

Loop::~Loop() {
    uv_close(reinterpret_cast<uv_handle_t*>(&impl_->wake), nullptr);
    // Handles still open belong to objects that outlive the loop by mistake; close them
    // so that uv_loop_close can succeed instead of leaking the loop.
    uv_walk(
        &impl_->loop,
        [](uv_handle_t* handle, void*) {
            if (!uv_is_closing(handle)) uv_close(handle, nullptr);
        },
        nullptr);
    uv_run(&impl_->loop, UV_RUN_DEFAULT);
    uv_loop_close(&impl_->loop);
}

void Loop::run() { uv_run(&impl_->loop, UV_RUN_DEFAULT); }
void Loop::stop() { uv_stop(&impl_->loop); }
uv_loop_s* Loop::raw() { return &impl_->loop; }

void Loop::post(std::function<void()> fn) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->mailbox.push_back(std::move(fn));
    }
    uv_async_send(&impl_->wake);
}

namespace {
template <class Impl>
void close_and_free(uv_handle_t* handle) {
    uv_close(handle, [](uv_handle_t* h) { delete static_cast<Impl*>(h->data); });
}

std::uint64_t to_millis(base::Duration d) {
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(d).count();
    return ms < 0 ? 0 : static_cast<std::uint64_t>(ms);
}
}  // namespace

// ---- Timer ----------------------------------------------------------------------------

struct Timer::Impl {
    uv_timer_t handle{};
    std::function<void()> fire;
};

Timer::Timer(Loop& loop) : impl_(new Impl) {
    uv_timer_init(loop.raw(), &impl_->handle);
    impl_->handle.data = impl_;
}

Timer::~Timer() { close_and_free<Impl>(reinterpret_cast<uv_handle_t*>(&impl_->handle)); }

void Timer::start(base::Duration after, std::function<void()> fire, base::Duration repeat) {
    impl_->fire = std::move(fire);
    uv_timer_start(
        &impl_->handle,
        [](uv_timer_t* h) {
            // A copy: the callback may re-arm or destroy this timer.
            auto fn = static_cast<Impl*>(h->data)->fire;
            fn();
        },
        to_millis(after), to_millis(repeat));
}

void Timer::stop() { uv_timer_stop(&impl_->handle); }

// ---- SignalWatch -----------------------------------------------------------------------

struct SignalWatch::Impl {
    uv_signal_t handle{};
    std::function<void()> fn;
};

SignalWatch::SignalWatch(Loop& loop, int signum, std::function<void()> fn) : impl_(new Impl) {
    impl_->fn = std::move(fn);
    uv_signal_init(loop.raw(), &impl_->handle);
    impl_->handle.data = impl_;
    uv_signal_start(
        &impl_->handle,
        [](uv_signal_t* h, int) {
            auto fn = static_cast<Impl*>(h->data)->fn;
            fn();
        },
        signum);
}

SignalWatch::~SignalWatch() { close_and_free<Impl>(reinterpret_cast<uv_handle_t*>(&impl_->handle)); }

// ---- PriorityWatch ---------------------------------------------------------------------

struct PriorityWatch::Impl {
    uv_poll_t handle{};
    std::function<void()> fn;
};

PriorityWatch::PriorityWatch(Loop& loop, int fd, std::function<void()> fn) : impl_(new Impl) {
    impl_->fn = std::move(fn);
    if (uv_poll_init(loop.raw(), &impl_->handle, fd) != 0) {
        delete impl_;  // an fd epoll cannot watch: nothing was registered
        impl_ = nullptr;
        return;
    }
    impl_->handle.data = impl_;
    uv_poll_start(&impl_->handle, UV_PRIORITIZED, [](uv_poll_t* h, int status, int events) {
        if (status < 0 || !(events & UV_PRIORITIZED)) return;
        auto fn = static_cast<Impl*>(h->data)->fn;
        fn();
    });
}

PriorityWatch::~PriorityWatch() {
    if (impl_) close_and_free<Impl>(reinterpret_cast<uv_handle_t*>(&impl_->handle));
}

bool PriorityWatch::active() const { return impl_ != nullptr; }

}  // namespace gaffer::loop
