#include "tasks/init/detail/event_loop.hpp"

#include <sys/epoll.h>

#include <cerrno>

namespace gaffer::init {

base::Result<EventLoop> EventLoop::create() {
    EventLoop loop;
    loop.epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!loop.epoll_) return base::fail_errno(base::Errc::io, "epoll_create1", errno);
    return loop;
}

base::Result<EventLoop::Id> EventLoop::add(int fd, std::uint32_t events, Handler handler) {
    const Id id = next_id_++;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
        return base::fail_errno(base::Errc::io, "epoll_ctl add fd " + std::to_string(fd), errno);
    watches_.emplace(id, Watch{fd, std::move(handler)});
    return id;
}

void EventLoop::modify(Id id, std::uint32_t events) {
    auto it = watches_.find(id);
    if (it == watches_.end()) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, it->second.fd, &ev);
}

void EventLoop::remove(Id id) {
    auto it = watches_.find(id);
    if (it == watches_.end()) return;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.fd, nullptr);
    watches_.erase(it);
}

base::Result<void> EventLoop::run_once(int timeout_ms) {
    epoll_event events[32];
    int n = ::epoll_wait(epoll_.get(), events, 32, timeout_ms);
    if (n < 0) {
        if (errno == EINTR) return {};
        return base::fail_errno(base::Errc::io, "epoll_wait", errno);
    }
    for (int i = 0; i < n; ++i) {
        auto it = watches_.find(events[i].data.u64);
        if (it == watches_.end()) continue;
        // Copy: the handler may remove its own watch.
        Handler handler = it->second.handler;
        handler(events[i].events);
    }
    return {};
}

}  // namespace gaffer::init
