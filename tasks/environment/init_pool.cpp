#include "tasks/environment/detail/init_pool.hpp"

#include "coordinator/loop/loop.hpp"

namespace gaffer::environment::detail {

InitProcess::InitProcess() = default;
InitProcess::InitProcess(InitProcess&&) noexcept = default;
InitProcess& InitProcess::operator=(InitProcess&&) noexcept = default;
InitProcess::~InitProcess() = default;

InitPool::InitPool(loop::Loop& loop, InitLauncher& launcher, InitPoolOptions options)
    : loop_(loop), launcher_(launcher), options_(std::move(options)),
      refill_(std::make_unique<loop::Timer>(loop)) {
    if (options_.size > 0) schedule_fill(base::Duration::zero());
}

InitPool::~InitPool() {
    refill_.reset();
    for (auto& member : waiting_) {
        member.init.exit_route->fn = nullptr;
        launcher_.kill(member.init);
    }
}

void InitPool::warn(std::string_view text) const {
    if (options_.on_warning) options_.on_warning(text);
}

void InitPool::schedule_fill(base::Duration after, bool retry) {
    fill_pending_ = true;
    retrying_ = retry;
    refill_->start(after, [this] {
        fill_pending_ = false;
        retrying_ = false;
        fill();
    });
}

void InitPool::schedule_refill() {
    if (waiting_.empty()) {
        if (!retrying_) schedule_fill(base::Duration::zero());  // a burst: at once
    } else if (!fill_pending_) {
        schedule_fill(options_.refill_after);
    }
}

base::Result<InitProcess> InitPool::take() {
    while (!waiting_.empty()) {
        Member member = std::move(waiting_.front());
        waiting_.pop_front();
        member.init.exit_route->fn = nullptr;
        if (launcher_.has_exited(member.init)) {
            // Died while waiting and libuv has not reaped it yet: its exit would end the
            // environment at once, so it is not handed out.
            launcher_.kill(member.init);
            warn("a waiting gaffer-init of the warm pool has exited; starting another later");
            schedule_fill(options_.retry_after, true);
            continue;
        }
        schedule_refill();
        return std::move(member.init);
    }
    if (options_.size > 0) schedule_refill();
    return launcher_.launch(false);
}

void InitPool::fill() {
    if (waiting_.size() >= options_.size) return;
    auto init = launcher_.launch(true);
    if (!init) {
        warn("warm pool: " + init.error().message + "; retrying later");
        schedule_fill(options_.retry_after, true);
        return;
    }
    Member member{next_serial_++, std::move(*init)};
    member.init.exit_route->fn = [this, serial = member.serial](std::int64_t status, int signal) {
        on_member_exit(serial, status, signal);
    };
    waiting_.push_back(std::move(member));
    // One launch per loop turn: each blocks the loop for a fork and an exec, and whatever
    // I/O is ready (an environment's result, say) should not wait for several of them.
    if (waiting_.size() < options_.size) schedule_fill(base::Duration::zero());
}

void InitPool::flush() {
    if (waiting_.empty() && !fill_pending_) return;
    for (auto& member : waiting_) {
        member.init.exit_route->fn = nullptr;
        launcher_.kill(member.init);
    }
    waiting_.clear();
    if (options_.size > 0) schedule_fill(options_.flush_refill_after);
}

void InitPool::on_member_exit(std::uint64_t serial, std::int64_t status, int signal) {
    for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
        if (it->serial != serial) continue;
        it->init.exit_route->fn = nullptr;
        launcher_.kill(it->init);  // its PID 1 and its cgroup
        waiting_.erase(it);
        warn("a waiting gaffer-init of the warm pool exited (status " + std::to_string(status) + ", signal " +
             std::to_string(signal) + "); starting another later");
        schedule_fill(options_.retry_after, true);
        return;
    }
}

}  // namespace gaffer::environment::detail
