// The scheduler's Timers port over libuv timers. Loop thread only.
#pragma once

#include <map>
#include <memory>

#include "coordinator/loop/loop.hpp"
#include "coordinator/scheduler/scheduler.hpp"

namespace gaffer::daemon {

class LoopTimers final : public scheduler::Timers {
public:
    explicit LoopTimers(loop::Loop& loop) : loop_(loop) {}

    Id start(base::Duration after, std::function<void()> fire) override {
        Id id = ++next_id_;
        auto timer = std::make_unique<loop::Timer>(loop_);
        timer->start(after, [this, id, fire = std::move(fire)] {
            auto node = timers_.extract(id);  // the timer object dies after this callback
            fire();
        });
        timers_.emplace(id, std::move(timer));
        return id;
    }

    void cancel(Id id) override { timers_.erase(id); }

private:
    loop::Loop& loop_;
    Id next_id_ = 0;
    std::map<Id, std::unique_ptr<loop::Timer>> timers_;
};

}  // namespace gaffer::daemon
