// The warm pool's rules with a fake launcher: a real libuv loop, no processes, no root.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "coordinator/loop/loop.hpp"
#include "tasks/environment/detail/init_pool.hpp"

using namespace gaffer;
using namespace gaffer::environment::detail;
using namespace std::chrono_literals;

namespace {

class FakeLauncher final : public InitLauncher {
public:
    base::Result<InitProcess> launch(bool pooled) override {
        launches.push_back(pooled);
        if (failing) return base::fail(base::Errc::io, "cannot start /fake/gaffer-init: out of luck");
        InitProcess init;
        init.pid = next_pid++;
        routes[init.pid] = init.exit_route;
        return init;
    }
    bool has_exited(const InitProcess& init) override { return exited.count(init.pid) != 0; }
    void kill(InitProcess& init) override { killed.push_back(init.pid); }

    // What libuv does when a child exits: the route's function, if any, hears of it.
    void report_exit(pid_t pid, std::int64_t status) {
        auto fn = routes.at(pid)->fn;
        if (fn) fn(status, 0);
    }

    std::vector<bool> launches;  // the `pooled` argument of each launch
    bool failing = false;
    pid_t next_pid = 100;
    std::set<pid_t> exited;
    std::vector<pid_t> killed;
    std::map<pid_t, std::shared_ptr<ExitRoute>> routes;
};

// Runs the loop for `span`.
void run_for(loop::Loop& loop, std::chrono::milliseconds span) {
    loop::Timer stop(loop);
    stop.start(span, [&] { loop.stop(); });
    loop.run();
}

struct Fixture {
    loop::Loop loop;
    FakeLauncher launcher;
    std::vector<std::string> warnings;
    InitPoolOptions options(std::size_t size) {
        InitPoolOptions o;
        o.size = size;
        o.refill_after = 0ms;
        o.retry_after = 50ms;
        o.flush_refill_after = 30ms;
        o.on_warning = [this](std::string_view w) { warnings.emplace_back(w); };
        return o;
    }
};

}  // namespace

TEST_CASE("the pool fills up on the loop, one launch per turn, all of them pooled") {
    Fixture f;
    InitPool pool(f.loop, f.launcher, f.options(3));
    CHECK(pool.waiting() == 0);  // nothing inside the constructor
    CHECK(f.launcher.launches.empty());
    run_for(f.loop, 20ms);
    CHECK(pool.waiting() == 3);
    CHECK(f.launcher.launches == std::vector<bool>{true, true, true});
    CHECK(f.warnings.empty());
}

TEST_CASE("take hands out the oldest waiting process and the pool refills after it") {
    Fixture f;
    InitPool pool(f.loop, f.launcher, f.options(2));
    run_for(f.loop, 20ms);
    REQUIRE(pool.waiting() == 2);
    auto first = pool.take();
    REQUIRE(first);
    CHECK(first->pid == 100);
    CHECK(!first->exit_route->fn);  // the taker routes its exit, not the pool
    CHECK(pool.waiting() == 1);
    CHECK(f.launcher.launches.size() == 2);  // the refill is not on the taker's path
    run_for(f.loop, 20ms);
    CHECK(pool.waiting() == 2);
    CHECK(f.launcher.launches.size() == 3);
    auto second = pool.take();
    REQUIRE(second);
    CHECK(second->pid == 101);
}

TEST_CASE("flush kills every waiting process and refills once, after flush_refill_after") {
    Fixture f;
    InitPool pool(f.loop, f.launcher, f.options(2));
    run_for(f.loop, 20ms);
    REQUIRE(pool.waiting() == 2);
    pool.flush();
    pool.flush();  // a burst of mount changes
    CHECK(pool.waiting() == 0);
    CHECK(f.launcher.killed == std::vector<pid_t>{100, 101});
    f.launcher.report_exit(100, 137);  // the killed process's exit is not the pool's business
    CHECK(f.warnings.empty());
    run_for(f.loop, 15ms);  // less than flush_refill_after
    CHECK(f.launcher.launches.size() == 2);
    auto cold = pool.take();  // meanwhile a start launches its own, as with an empty pool
    REQUIRE(cold);
    CHECK(cold->pid == 102);
    run_for(f.loop, 60ms);
    CHECK(pool.waiting() == 2);
    CHECK(f.launcher.launches == std::vector<bool>{true, true, false, true, true});
    auto warm = pool.take();
    REQUIRE(warm);
    CHECK(warm->pid == 103);
}

TEST_CASE("an empty pool, or none, launches at once and unpooled") {
    Fixture f;
    SUBCASE("size 0 never launches ahead") {
        InitPool pool(f.loop, f.launcher, f.options(0));
        run_for(f.loop, 20ms);
        CHECK(f.launcher.launches.empty());
        auto init = pool.take();
        REQUIRE(init);
        CHECK(f.launcher.launches == std::vector<bool>{false});
        run_for(f.loop, 20ms);
        CHECK(pool.waiting() == 0);
        CHECK(f.launcher.launches.size() == 1);
    }
    SUBCASE("a pool drained faster than it refills") {
        InitPool pool(f.loop, f.launcher, f.options(1));
        run_for(f.loop, 20ms);
        REQUIRE(pool.take());
        auto cold = pool.take();
        REQUIRE(cold);
        CHECK(f.launcher.launches == std::vector<bool>{true, false});
        run_for(f.loop, 20ms);
        CHECK(pool.waiting() == 1);
    }
}

TEST_CASE("a failing launch is retried after retry_after, not in a loop") {
    Fixture f;
    f.launcher.failing = true;
    InitPool pool(f.loop, f.launcher, f.options(2));
    run_for(f.loop, 30ms);  // less than retry_after (50 ms)
    CHECK(f.launcher.launches.size() == 1);
    REQUIRE(f.warnings.size() == 1);
    CHECK(f.warnings[0].find("out of luck") != std::string::npos);
    // A take meanwhile reports the launch error to its caller and does not hurry the retry.
    auto init = pool.take();
    REQUIRE_FALSE(init);
    CHECK(init.error().message.find("/fake/gaffer-init") != std::string::npos);
    f.launcher.failing = false;
    run_for(f.loop, 100ms);
    CHECK(pool.waiting() == 2);
    CHECK(f.launcher.launches.size() == 4);  // 1 failed + the take's + 2 that succeeded
}

TEST_CASE("a waiting process that exits is dropped and replaced later") {
    Fixture f;
    InitPool pool(f.loop, f.launcher, f.options(2));
    run_for(f.loop, 20ms);
    REQUIRE(pool.waiting() == 2);
    f.launcher.report_exit(100, 1);
    CHECK(pool.waiting() == 1);
    CHECK(f.launcher.killed == std::vector<pid_t>{100});  // what it leaves (PID 1, cgroup) goes
    REQUIRE(f.warnings.size() == 1);
    CHECK(f.warnings[0].find("status 1") != std::string::npos);
    run_for(f.loop, 20ms);
    CHECK(pool.waiting() == 1);  // backing off
    run_for(f.loop, 80ms);
    CHECK(pool.waiting() == 2);
    auto init = pool.take();
    REQUIRE(init);
    CHECK(init->pid == 101);
}

TEST_CASE("take skips a process that has exited but whose exit is not reported yet") {
    Fixture f;
    InitPool pool(f.loop, f.launcher, f.options(2));
    run_for(f.loop, 20ms);
    f.launcher.exited.insert(100);
    auto init = pool.take();
    REQUIRE(init);
    CHECK(init->pid == 101);
    CHECK(f.launcher.killed == std::vector<pid_t>{100});
    CHECK(f.warnings.size() == 1);
    // Its late exit report goes nowhere.
    f.launcher.report_exit(100, 9);
    CHECK(f.warnings.size() == 1);
}

TEST_CASE("destroying the pool kills every waiting process and ignores their exits") {
    Fixture f;
    {
        InitPool pool(f.loop, f.launcher, f.options(3));
        run_for(f.loop, 20ms);
        REQUIRE(pool.waiting() == 3);
        auto taken = pool.take();
        REQUIRE(taken);
    }
    auto killed = f.launcher.killed;
    std::sort(killed.begin(), killed.end());
    CHECK(killed == std::vector<pid_t>{101, 102});  // not the one taken
    for (pid_t pid : {100, 101, 102}) f.launcher.report_exit(pid, 0);  // no crash, no warning
    CHECK(f.warnings.empty());
}

TEST_CASE("the refill waits refill_after, and takes meanwhile do not postpone it") {
    Fixture f;
    auto options = f.options(2);
    options.refill_after = 40ms;
    InitPool pool(f.loop, f.launcher, options);
    run_for(f.loop, 20ms);  // the first fill does not wait
    REQUIRE(pool.waiting() == 2);
    REQUIRE(pool.take());
    run_for(f.loop, 25ms);
    REQUIRE(pool.take());  // 25 ms after the first take
    CHECK(pool.waiting() == 0);
    run_for(f.loop, 30ms);  // 55 ms after the first take, 30 after the second
    CHECK(pool.waiting() == 2);
    CHECK(f.launcher.launches.size() == 4);
}

TEST_CASE("a take that empties the pool (a burst) refills at once, not after refill_after") {
    Fixture f;
    auto options = f.options(2);
    options.refill_after = 200ms;
    InitPool pool(f.loop, f.launcher, options);
    run_for(f.loop, 20ms);
    REQUIRE(pool.waiting() == 2);
    REQUIRE(pool.take());
    run_for(f.loop, 20ms);
    CHECK(pool.waiting() == 1);  // one still waits: the refill waits its 200 ms
    REQUIRE(pool.take());
    run_for(f.loop, 20ms);
    CHECK(pool.waiting() == 2);  // empty: refilled on the next turns
    CHECK(f.launcher.launches.size() == 4);
}

TEST_CASE("an empty pool does not hasten a retry after a failed launch") {
    Fixture f;
    f.launcher.failing = true;
    InitPool pool(f.loop, f.launcher, f.options(1));
    run_for(f.loop, 10ms);  // the first launch failed: a retry in 50 ms
    CHECK(pool.waiting() == 0);
    CHECK_FALSE(pool.take());  // launches for itself, and fails too
    f.launcher.failing = false;
    const auto launched = f.launcher.launches.size();
    run_for(f.loop, 20ms);
    CHECK(f.launcher.launches.size() == launched);  // the retry was not turned into a loop
    run_for(f.loop, 50ms);
    CHECK(pool.waiting() == 1);
}
