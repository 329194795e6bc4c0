#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include "devices/mqtt/detail/backoff.hpp"

using gaffer::mqtt::detail::Backoff;
using namespace std::chrono_literals;

namespace {
std::vector<long long> schedule(Backoff& backoff, int n) {
    std::vector<long long> out;
    for (int i = 0; i < n; ++i)
        out.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(backoff.next()).count());
    return out;
}
}  // namespace

TEST_CASE("backoff doubles from min and stops at max") {
    Backoff backoff(100ms, 30s);
    CHECK(schedule(backoff, 12) == std::vector<long long>{100, 200, 400, 800, 1600, 3200, 6400,
                                                          12800, 25600, 30000, 30000, 30000});
}

TEST_CASE("backoff starts again from min after reset") {
    Backoff backoff(100ms, 1s);
    schedule(backoff, 6);
    backoff.reset();
    CHECK(schedule(backoff, 3) == std::vector<long long>{100, 200, 400});
}

TEST_CASE("backoff with min equal to max is constant") {
    Backoff backoff(250ms, 250ms);
    CHECK(schedule(backoff, 3) == std::vector<long long>{250, 250, 250});
}

TEST_CASE("backoff caps a max that is not a power-of-two multiple of min") {
    Backoff backoff(300ms, 1s);
    CHECK(schedule(backoff, 4) == std::vector<long long>{300, 600, 1000, 1000});
}

TEST_CASE("backoff does not overflow with a huge max") {
    Backoff backoff(1ms, std::chrono::hours(24 * 365 * 100));
    auto previous = backoff.next();
    for (int i = 0; i < 200; ++i) {
        auto next = backoff.next();
        CHECK(next >= previous);
        CHECK(next <= std::chrono::hours(24 * 365 * 100));
        previous = next;
    }
    CHECK(previous == std::chrono::hours(24 * 365 * 100));
}
