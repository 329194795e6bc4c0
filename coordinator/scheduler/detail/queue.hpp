// The scheduler's waiting room: invocations accepted but not yet handed to an environment,
// FIFO per task, bounded across all tasks together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "coordinator/scheduler/scheduler.hpp"

namespace gaffer::scheduler::detail {

// One accepted invocation on its way to an outcome. The invocation is shared so that an
// Environments::invoke() call can keep reading it even if the outcome arrives (and this
// Pending is consumed) before that call returns.
struct Pending {
    std::shared_ptr<const Invocation> invocation;
    Scheduler::Done done;
    base::TimePoint accepted{};
    std::uint64_t seq = 0;   // global acceptance order: fairness across tasks
    bool measured = true;    // false for recovered entries: no invoke() time to measure from
};

class InvocationQueue {
public:
    explicit InvocationQueue(std::size_t limit) : limit_(limit) {}

    bool full() const { return total_ >= limit_; }
    std::size_t limit() const { return limit_; }
    std::size_t size() const { return total_; }
    std::size_t size(std::string_view task) const;
    bool empty(std::string_view task) const { return size(task) == 0; }

    // push() does not check the limit: the caller checks full() where the limit applies
    // (recovered and re-queued entries were accepted already).
    void push(Pending pending);
    // Back at the head of its task's queue (an assignment taken back from an environment).
    void push_front(Pending pending);

    const Pending* front(std::string_view task) const;  // nullptr when empty
    Pending pop(std::string_view task);                  // the task's queue must not be empty
    std::deque<Pending> take_all(std::string_view task);

    // Tasks with at least one waiting invocation, each with its oldest entry's seq.
    template <class Fn>
    void for_each_waiting(Fn&& fn) const {
        for (const auto& [task, q] : queues_) fn(task, q.front().seq);
    }

private:
    std::size_t limit_;
    std::size_t total_ = 0;
    std::map<std::string, std::deque<Pending>, std::less<>> queues_;  // never holds empties
};

}  // namespace gaffer::scheduler::detail
