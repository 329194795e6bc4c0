#include "coordinator/scheduler/detail/restart_budget.hpp"

#include <algorithm>

namespace gaffer::scheduler::detail {

RestartBudget::RestartBudget(base::Duration initial, base::Duration max, unsigned broken_after,
                             base::Duration window)
    : initial_(initial), max_(std::max(max, initial)), broken_after_(broken_after),
      window_(window), next_delay_(initial) {}

void RestartBudget::forget_before(base::TimePoint now) {
    // A failure exactly one window old has left it: "3 within an hour" means strictly
    // less than an hour between the first and the last.
    while (!failures_.empty() && now - failures_.front() >= window_) failures_.pop_front();
}

std::optional<base::Duration> RestartBudget::record_failure(base::TimePoint now) {
    if (broken_) return std::nullopt;
    forget_before(now);
    failures_.push_back(now);
    if (broken_after_ > 0 && failures_.size() >= broken_after_) {
        broken_ = true;
        return std::nullopt;
    }
    base::Duration delay = next_delay_;
    next_delay_ = std::min(next_delay_ * 2, max_);
    return delay;
}

void RestartBudget::record_stable_run() { next_delay_ = initial_; }

void RestartBudget::reset() {
    failures_.clear();
    next_delay_ = initial_;
    broken_ = false;
}

unsigned RestartBudget::recent_failures(base::TimePoint now) const {
    auto recent = std::count_if(failures_.begin(), failures_.end(),
                                [&](base::TimePoint t) { return now - t < window_; });
    return static_cast<unsigned>(recent);
}

}  // namespace gaffer::scheduler::detail
