// Task lifecycle, the journal, shutdown and metrics.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/unit/scheduler/fakes.hpp"

using namespace fakes;
using namespace std::chrono_literals;

namespace {
bool contains(const std::vector<EnvId>& v, EnvId e) {
    return std::find(v.begin(), v.end(), e) != v.end();
}
}  // namespace

TEST_CASE("remove_task cancels queued, starting and in-flight invocations and stops envs") {
    Harness h;
    REQUIRE(h.sched->put_task(task("a", 2)));
    std::string running = h.call("a");
    std::string starting = h.call("a");
    std::string queued = h.call("a", "q", /*async=*/true);
    EnvId e1 = h.envs.started[0], e2 = h.envs.started[1];
    h.envs.ready(e1);
    REQUIRE(h.sched->remove_task("a"));
    CHECK(h.outcome(running).status == Status::cancelled);
    CHECK(h.outcome(starting).status == Status::cancelled);
    REQUIRE(h.journal.finished[queued].size() == 1);
    CHECK(h.journal.finished[queued][0].status == Status::cancelled);
    CHECK(h.outcome(queued).detail.find("removed") != std::string::npos);
    CHECK(contains(h.envs.stops, e1));
    CHECK(contains(h.envs.stops, e2));
    h.envs.exit_stopped();
    CHECK(h.sched->environments().empty());
    CHECK(h.count(Status::cancelled) == 3);

    auto again = h.sched->remove_task("a");
    REQUIRE_FALSE(again);
    CHECK(again.error().code == base::Errc::not_found);
}

TEST_CASE("replace drains: a busy old env finishes then stops; new work uses the new manifest") {
    Harness h;
    REQUIRE(h.sched->put_task(task("a", 2)));
    std::string a1 = h.call("a");
    std::string a2 = h.call("a");
    EnvId e1 = h.envs.started[0], e2 = h.envs.started[1];
    h.envs.ready(e1);
    h.envs.ready(e2);
    h.envs.answer(e2, Status::ok);  // e2 idle, e1 busy with a1

    auto v2 = task("a", 2);
    v2.version = "2";
    REQUIRE(h.sched->put_task(v2));
    CHECK(h.sched->find_task("a")->version == "2");
    CHECK(h.envs.stops == std::vector<EnvId>{e2});  // idle old env: stopped now
    std::string a3 = h.call("a");
    REQUIRE(h.envs.started.size() == 3);
    EnvId e3 = h.envs.last();
    CHECK(h.envs.envs[e3].version == "2");
    h.envs.answer(e1, Status::ok);  // the old one finishes its invocation...
    CHECK(h.outcome(a1).status == Status::ok);
    CHECK(contains(h.envs.stops, e1));  // ...then stops
    h.envs.ready(e3);
    CHECK(h.envs.envs[e3].served == std::vector<std::string>{a3});
}

TEST_CASE("replace takes back an invocation whose environment was still starting") {
    Harness h;
    REQUIRE(h.sched->put_task(task("a")));
    std::string a1 = h.call("a");
    EnvId old_env = h.envs.last();
    auto v2 = task("a");
    v2.version = "2";
    REQUIRE(h.sched->put_task(v2));
    CHECK(h.envs.stops == std::vector<EnvId>{old_env});
    REQUIRE(h.envs.started.size() == 2);
    EnvId e = h.envs.last();
    CHECK(h.envs.envs[e].version == "2");
    h.envs.ready(e);
    h.envs.answer(e, Status::ok);
    CHECK(h.outcome(a1).status == Status::ok);
    h.envs.exit(old_env, ExitInfo::Reason::stopped);
    CHECK(h.outcome(a1).status == Status::ok);  // exactly one outcome
}

TEST_CASE("recover re-queues pending async work (ids kept, no queue limit), cancels unknown") {
    Config c;
    c.queue_limit = 1;
    Harness h(c);
    h.journal.entries = {{"0000000000000001", "a", "one", true},
                         {"0000000000000002", "ghost", "x", true},
                         {"0000000000000003", "a", "three", true}};
    REQUIRE(h.sched->put_task(task("a")));
    REQUIRE(h.sched->recover());
    REQUIRE(h.journal.finished["0000000000000002"].size() == 1);
    CHECK(h.journal.finished["0000000000000002"][0].status == Status::cancelled);
    CHECK(h.journal.finished["0000000000000002"][0].detail == "task no longer defined");
    CHECK(h.status("a").queued == 2);
    EnvId e = h.envs.last();
    h.envs.ready(e);
    h.envs.answer(e, Status::ok);
    h.envs.answer(e, Status::ok);
    CHECK(h.envs.envs[e].served ==
          std::vector<std::string>{"0000000000000001", "0000000000000003"});
    CHECK(h.envs.payloads["0000000000000003"] == "three");
    CHECK(h.journal.finished["0000000000000001"].size() == 1);
    CHECK(h.journal.finished["0000000000000003"].size() == 1);
    CHECK(h.journal.pending()->empty());
    CHECK(h.sched->metrics().latency_count == 0);  // no invoke() time to measure from

    auto twice = h.sched->recover();
    REQUIRE_FALSE(twice);
    CHECK(twice.error().code == base::Errc::conflict);
}

TEST_CASE("async: journal accept happens before invoke returns; accept failure queues nothing") {
    Harness h;
    REQUIRE(h.sched->put_task(task("a")));
    std::string id = h.call("a", "ev", /*async=*/true);
    REQUIRE(h.journal.log == std::vector<std::string>{"accept:" + id});
    CHECK(h.journal.entries.at(0).async);
    CHECK(h.journal.entries.at(0).payload == "ev");
    EnvId e = h.envs.last();
    h.envs.ready(e);
    h.envs.answer(e, Status::ok, "r");
    CHECK(h.journal.log == std::vector<std::string>{"accept:" + id, "finish:" + id});
    CHECK(h.journal.finished[id].at(0).payload == "r");
    CHECK(h.outcome(id).payload == "r");

    h.journal.fail_accept = true;
    std::size_t started = h.envs.started.size();
    auto r = h.try_call("a", "ev2", true);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == base::Errc::io);
    CHECK(r.error().message.find("disk full") != std::string::npos);
    CHECK(h.status("a").queued == 0);
    CHECK(h.envs.started.size() == started);
    CHECK(h.envs.envs[e].served.size() == 1);
}

TEST_CASE("shutdown: refuse new work, cancel queued sync, keep queued async, grace, then done") {
    Config c;
    c.stop_grace = 5s;
    Harness h(c);
    auto a = task("a", 2);
    a.timeout = 60s;  // the backstop must not end a1 before the grace does
    REQUIRE(h.sched->put_task(a));
    REQUIRE(h.sched->put_task(task("b")));
    REQUIRE(h.sched->put_task(
        task("svc", 1, manifest::Mode::long_lived, manifest::Interface::process)));
    EnvId svc = h.envs.last();
    h.envs.ready(svc);
    std::string b1 = h.call("b");
    EnvId eb = h.envs.last();
    h.envs.ready(eb);
    h.envs.answer(eb, Status::ok);  // b: idle
    std::string s1 = h.call("a");
    std::string a1 = h.call("a", "x", true);
    EnvId e1 = h.envs.started[2], e2 = h.envs.started[3];
    h.envs.ready(e1);
    h.envs.ready(e2);  // e1 runs s1, e2 runs a1
    std::string s2 = h.call("a");
    std::string a2 = h.call("a", "y", true);

    int done_calls = 0;
    h.sched->shutdown([&] { ++done_calls; });
    CHECK(h.outcome(s2).status == Status::cancelled);
    CHECK_FALSE(h.journal.finished.count(a2));  // stays pending: runs after restart
    CHECK_FALSE(h.has_outcome(a2));
    CHECK(contains(h.envs.stops, eb));
    CHECK(contains(h.envs.stops, svc));
    CHECK_FALSE(contains(h.envs.stops, e1));
    CHECK_FALSE(contains(h.envs.stops, e2));
    auto refused = h.try_call("a");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == base::Errc::unavailable);
    CHECK(h.sched->put_task(task("z")).error().code == base::Errc::unavailable);

    h.envs.answer(e1, Status::ok);  // in-flight finishes within the grace
    CHECK(h.outcome(s1).status == Status::ok);
    CHECK(contains(h.envs.stops, e1));
    h.timers.advance(5s);  // grace over: the rest are cut off
    CHECK(contains(h.envs.stops, e2));
    CHECK_FALSE(h.journal.finished.count(a1));
    h.envs.exit(svc, ExitInfo::Reason::stopped);
    h.envs.exit(eb, ExitInfo::Reason::stopped);
    h.envs.exit(e1, ExitInfo::Reason::stopped);
    CHECK(done_calls == 0);  // e2 has not exited yet
    h.timers.advance(1h);
    CHECK(h.envs.started.size() == 4);  // the service was not restarted
    h.envs.exit(e2, ExitInfo::Reason::stopped);
    CHECK(done_calls == 1);
    auto pending = h.journal.pending();
    REQUIRE(pending->size() == 2);
    CHECK((*pending)[0].id == a1);
    CHECK((*pending)[1].id == a2);
}

TEST_CASE("shutdown with nothing running calls done at once, and done may destroy the scheduler") {
    Harness h;
    REQUIRE(h.sched->put_task(task("a")));
    bool done = false;
    h.sched->shutdown([&] {
        done = true;
        h.sched.reset();
    });
    CHECK(done);
    CHECK_FALSE(h.sched);
}

TEST_CASE("shutdown with re-entrant stop: done after the last synchronous exit") {
    Harness h;
    h.envs.exit_inside_stop = true;
    REQUIRE(h.sched->put_task(task("a")));
    h.call("a");
    h.envs.ready(h.envs.last());
    h.envs.answer(h.envs.last(), Status::ok);
    int done = 0;
    h.sched->shutdown([&] { ++done; });
    CHECK(done == 1);
    h.sched->shutdown([&] { ++done; });  // a later call is answered too
    CHECK(done == 2);
}

TEST_CASE("metrics count statuses, dispatches, starts and latency on the injected clock") {
    Config c;
    c.queue_limit = 1;  // a1 goes to the starting environment, a2 fills the queue
    Harness h(c);
    REQUIRE(h.sched->put_task(task("a")));
    std::string a1 = h.call("a");
    std::string a2 = h.call("a");
    CHECK_FALSE(h.try_call("a"));
    EnvId e = h.envs.last();
    h.timers.advance(30ms);
    h.envs.ready(e);
    h.envs.answer(e, Status::ok);  // a1: 30 ms
    h.timers.advance(2s);
    h.envs.answer(e, Status::function_error);  // a2: 2.03 s
    std::string a3 = h.call("a");  // warm: the env is idle; it runs when it is removed
    REQUIRE(h.sched->remove_task("a"));  // a3: 0 s, cancelled
    const Metrics& m = h.sched->metrics();
    CHECK(h.count(Status::ok) == 1);
    CHECK(h.count(Status::function_error) == 1);
    CHECK(h.count(Status::cancelled) == 1);
    CHECK(m.rejected_busy == 1);
    CHECK(m.environments_started == 1);
    CHECK(m.cold_dispatches == 1);
    CHECK(m.warm_dispatches == 2);
    CHECK(m.latency_count == 3);
    CHECK(m.latency_counts[0] == 1);   // 0 s <= 0.0005
    CHECK(m.latency_counts[6] == 1);   // 0.03 s in (0.025, 0.05]
    CHECK(m.latency_counts[11] == 1);  // 2.03 s in (1, 2.5]
    CHECK(m.latency_sum == doctest::Approx(2.06));
}
