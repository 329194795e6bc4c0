#include <doctest/doctest.h>

#include "coordinator/scheduler/detail/restart_budget.hpp"

using gaffer::scheduler::detail::RestartBudget;
using namespace std::chrono_literals;

TEST_CASE("RestartBudget: delays double, cap at max, broken on the Nth failure in the window") {
    RestartBudget b(1s, 5s, 4, 1h);
    gaffer::base::TimePoint t{};
    CHECK(b.record_failure(t) == std::optional<gaffer::base::Duration>(1s));
    CHECK(b.record_failure(t + 1s) == std::optional<gaffer::base::Duration>(2s));
    CHECK(b.record_failure(t + 2s) == std::optional<gaffer::base::Duration>(4s));
    CHECK(b.recent_failures(t + 2s) == 3);
    CHECK_FALSE(b.record_failure(t + 3s).has_value());
    CHECK(b.broken());
    b.reset();
    CHECK_FALSE(b.broken());
    CHECK(b.recent_failures(t + 3s) == 0);
}

TEST_CASE("RestartBudget: failures leave the window; a stable run resets the delay only") {
    RestartBudget b(1s, 60s, 3, 1h);
    gaffer::base::TimePoint t{};
    CHECK(b.record_failure(t) == std::optional<gaffer::base::Duration>(1s));
    CHECK(b.record_failure(t + 10s) == std::optional<gaffer::base::Duration>(2s));
    b.record_stable_run();
    CHECK(b.recent_failures(t + 1h) == 1);
    CHECK(b.record_failure(t + 1h) == std::optional<gaffer::base::Duration>(1s));
    CHECK_FALSE(b.broken());
    CHECK_FALSE(b.record_failure(t + 1h + 1s).has_value());  // t+10s, t+1h, t+1h+1s
}
