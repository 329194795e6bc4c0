// A minimal epoll loop for gaffer-init: one thread, level-triggered, handlers by id so an
// event for a descriptor that was removed earlier in the same batch is dropped, not
// delivered to a stranger that reused the number.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>

#include "coordinator/base/base.hpp"

namespace gaffer::init {

class EventLoop {
public:
    using Handler = std::function<void(std::uint32_t events)>;
    using Id = std::uint64_t;

    static base::Result<EventLoop> create();

    // Watches `fd` (not owned) for `events` (EPOLLIN, EPOLLOUT, ...).
    base::Result<Id> add(int fd, std::uint32_t events, Handler handler);
    void modify(Id id, std::uint32_t events);
    void remove(Id id);

    // Waits up to timeout_ms (-1: forever) and runs the handlers of ready descriptors.
    base::Result<void> run_once(int timeout_ms);

private:
    struct Watch {
        int fd;
        Handler handler;
    };
    base::Fd epoll_;
    Id next_id_ = 1;
    std::unordered_map<Id, Watch> watches_;
};

}  // namespace gaffer::init
