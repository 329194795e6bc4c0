// Long-lived tasks: one environment kept up, restart backoff, the broken verdict.
#include <doctest/doctest.h>

#include "tests/unit/scheduler/fakes.hpp"

using namespace fakes;
using namespace std::chrono_literals;

namespace {

manifest::Manifest service(std::string name) {
    return task(std::move(name), 1, manifest::Mode::long_lived, manifest::Interface::process);
}
manifest::Manifest resident_lambda(std::string name) {
    return task(std::move(name), 1, manifest::Mode::long_lived, manifest::Interface::lambda);
}

// Makes the task's live environment fail and returns it.
EnvId crash_current(Harness& h, const std::string& name) {
    auto alive = h.envs.alive(name);
    REQUIRE(alive.size() == 1);
    h.envs.exit(alive[0], ExitInfo::Reason::exited, 1);
    return alive[0];
}

}  // namespace

TEST_CASE("put_task starts a long-lived task's environment at once") {
    Harness h;
    REQUIRE(h.sched->put_task(service("svc")));
    REQUIRE(h.envs.started.size() == 1);
    CHECK(h.status("svc").state == "starting");
    h.envs.ready(h.envs.last());
    CHECK(h.status("svc").state == "running");
    h.timers.advance(24h);  // never reclaimed as idle
    CHECK(h.envs.stops.empty());
}

TEST_CASE("invoke on a long-lived process service is invalid and says why") {
    Harness h;
    REQUIRE(h.sched->put_task(service("svc")));
    auto r = h.try_call("svc");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == base::Errc::invalid);
    CHECK(r.error().message.find("service") != std::string::npos);
}

TEST_CASE("a long-lived lambda task serves invocations on its single environment") {
    Harness h;
    REQUIRE(h.sched->put_task(resident_lambda("res")));
    EnvId e = h.envs.last();
    std::string a = h.call("res");
    std::string b = h.call("res");
    CHECK(h.envs.started.size() == 1);  // no second environment for the queue
    h.envs.ready(e);
    h.envs.answer(e, Status::ok);
    h.envs.answer(e, Status::ok);
    CHECK(h.outcome(a).status == Status::ok);
    CHECK(h.outcome(b).status == Status::ok);
    CHECK(h.envs.envs[e].served.size() == 2);
}

TEST_CASE("restart backoff doubles up to the maximum") {
    Config c;
    c.broken_after_failures = 100;
    c.restart_backoff_initial = 1s;
    c.restart_backoff_max = 8s;
    Harness h(c);
    REQUIRE(h.sched->put_task(service("svc")));
    for (auto delay : {1s, 2s, 4s, 8s, 8s}) {
        CAPTURE(delay.count());
        std::size_t before = h.envs.started.size();
        crash_current(h, "svc");
        CHECK(h.status("svc").state == "backoff");
        h.timers.advance(delay - 1ms);
        CHECK(h.envs.started.size() == before);
        h.timers.advance(1ms);
        REQUIRE(h.envs.started.size() == before + 1);
        CHECK(h.status("svc").state == "starting");
    }
}

TEST_CASE("an environment that ran for stable_run resets the backoff delay") {
    Config c;
    c.broken_after_failures = 100;
    Harness h(c);
    REQUIRE(h.sched->put_task(service("svc")));
    crash_current(h, "svc");
    h.timers.advance(1s);
    crash_current(h, "svc");
    h.timers.advance(2s);  // next delay would be 4s
    h.envs.ready(h.envs.last());
    h.timers.advance(60s);
    std::size_t before = h.envs.started.size();
    crash_current(h, "svc");
    h.timers.advance(1s);
    CHECK(h.envs.started.size() == before + 1);
}

TEST_CASE("broken after 3 failures within an hour: not restarted, invocations refused") {
    Harness h;
    REQUIRE(h.sched->put_task(resident_lambda("res")));
    std::string queued = h.call("res");
    crash_current(h, "res");
    h.timers.advance(1s);
    crash_current(h, "res");
    h.timers.advance(2s);
    crash_current(h, "res");
    CHECK(h.status("res").state == "broken");
    CHECK(h.status("res").recent_failures == 3);
    h.timers.advance(2h);
    CHECK(h.envs.started.size() == 3);
    CHECK(h.outcome(queued).status == Status::init_error);  // nothing waits forever
    auto r = h.try_call("res");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == base::Errc::unavailable);
    CHECK(r.error().message.find("broken") != std::string::npos);

    REQUIRE(h.sched->put_task(resident_lambda("res")));  // deploying again resets it
    CHECK(h.envs.started.size() == 4);
    CHECK(h.status("res").state == "starting");
    CHECK(h.status("res").recent_failures == 0);
}

TEST_CASE("3 failures spread over more than an hour do not make the task broken") {
    Harness h;
    REQUIRE(h.sched->put_task(service("svc")));
    crash_current(h, "svc");                  // t = 0
    h.timers.advance(1s);
    h.envs.ready(h.envs.last());
    h.timers.advance(31min);
    crash_current(h, "svc");                  // t = 31 min
    h.timers.advance(1s);
    h.envs.ready(h.envs.last());
    h.timers.advance(30min);
    crash_current(h, "svc");                  // t = 61 min: the first one has left the window
    CHECK(h.status("svc").state == "backoff");
    CHECK(h.status("svc").recent_failures == 2);
    h.timers.advance(1s);
    CHECK(h.envs.alive("svc").size() == 1);
}

TEST_CASE("a long-lived env we stop ourselves (backstop) restarts at once, not a failure") {
    Harness h;
    REQUIRE(h.sched->put_task(resident_lambda("res")));
    EnvId e = h.envs.last();
    h.envs.ready(e);
    std::string id = h.call("res");
    h.timers.advance(5s);
    CHECK(h.outcome(id).status == Status::timeout);
    CHECK(h.envs.started.size() == 1);  // the old one must exit first
    h.envs.exit(e, ExitInfo::Reason::stopped);
    CHECK(h.envs.started.size() == 2);
    CHECK(h.status("res").recent_failures == 0);
}

TEST_CASE("removing a long-lived task stops it and does not restart it") {
    Harness h;
    REQUIRE(h.sched->put_task(service("svc")));
    EnvId e = h.envs.last();
    h.envs.ready(e);
    REQUIRE(h.sched->remove_task("svc"));
    CHECK(h.envs.stops == std::vector<EnvId>{e});
    h.envs.exit(e, ExitInfo::Reason::stopped);
    h.timers.advance(1h);
    CHECK(h.envs.started.size() == 1);
    CHECK(h.sched->tasks().empty());
}

TEST_CASE("replacing a long-lived task starts the new env only after the old one exited") {
    Harness h;
    REQUIRE(h.sched->put_task(service("svc")));
    EnvId old_env = h.envs.last();
    h.envs.ready(old_env);
    auto m = service("svc");
    m.version = "2";
    REQUIRE(h.sched->put_task(m));
    CHECK(h.envs.stops == std::vector<EnvId>{old_env});
    CHECK(h.envs.started.size() == 1);
    h.envs.exit(old_env, ExitInfo::Reason::stopped);
    REQUIRE(h.envs.started.size() == 2);
    CHECK(h.envs.envs[h.envs.last()].version == "2");
    CHECK(h.status("svc").recent_failures == 0);
}

TEST_CASE("a long-lived env that fails to start counts as a failure and backs off") {
    Harness h;
    h.envs.fail_next_start = base::Error{base::Errc::io, "mount failed"};
    REQUIRE(h.sched->put_task(service("svc")));
    CHECK(h.envs.started.empty());
    CHECK(h.status("svc").state == "backoff");
    CHECK(h.sched->metrics().environments_failed == 1);
    h.timers.advance(1s);
    CHECK(h.envs.started.size() == 1);
}
