// The restart policy of one long-lived task: doubling backoff between restarts, and the
// "broken" verdict after too many failures within a window (Greengrass's rule: 3 in an
// hour). Pure: time comes in as arguments.
#pragma once

#include <deque>
#include <optional>

#include "coordinator/base/base.hpp"

namespace gaffer::scheduler::detail {

class RestartBudget {
public:
    RestartBudget(base::Duration initial, base::Duration max, unsigned broken_after,
                  base::Duration window);

    // Records an unexpected exit at `now`. Returns the delay before the next start, or
    // nullopt when this failure makes the task broken (broken_after failures within the
    // window, counting this one). Delays go initial, 2*initial, 4*initial ... up to max.
    std::optional<base::Duration> record_failure(base::TimePoint now);
    // The environment stayed up long enough: the next delay starts again at `initial`.
    // Failures already recorded still count towards broken until they leave the window.
    void record_stable_run();
    // Forget everything (the task was put again).
    void reset();

    bool broken() const { return broken_; }
    unsigned recent_failures(base::TimePoint now) const;  // within the window before `now`

private:
    void forget_before(base::TimePoint now);

    base::Duration initial_;
    base::Duration max_;
    unsigned broken_after_;
    base::Duration window_;
    base::Duration next_delay_;
    std::deque<base::TimePoint> failures_;  // oldest first, at most broken_after_ entries
    bool broken_ = false;
};

}  // namespace gaffer::scheduler::detail
