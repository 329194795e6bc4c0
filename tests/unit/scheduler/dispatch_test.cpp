// Queueing and dispatch: warm and cold starts, limits, eviction, idle reclaim, backstop,
// crashes, and re-entrant ports.
#include <doctest/doctest.h>

#include "tests/unit/scheduler/fakes.hpp"

using namespace fakes;
using namespace std::chrono_literals;

TEST_CASE("cold start: a new environment is started for the invocation and runs it when ready") {
    Harness h;
    REQUIRE(h.sched->put_task(task("echo")));
    CHECK(h.envs.started.empty());  // on-demand: nothing starts before an invocation
    std::string id = h.call("echo", "hello");
    REQUIRE(h.envs.started.size() == 1);
    EnvId env = h.envs.last();
    CHECK(h.envs.envs[env].served.empty());  // not before it is ready
    CHECK(h.status("echo").queued == 1);
    h.envs.ready(env);
    REQUIRE(h.envs.envs[env].served == std::vector<std::string>{id});
    CHECK(h.envs.payloads[id] == "hello");
    h.envs.answer(env, Status::ok, "world");
    CHECK(h.outcome(id).status == Status::ok);
    CHECK(h.outcome(id).payload == "world");
    CHECK(h.sched->metrics().cold_dispatches == 1);
    CHECK(h.sched->metrics().warm_dispatches == 0);
    CHECK(h.sched->metrics().environments_started == 1);
}

TEST_CASE("warm reuse: the next invocation goes to the idle environment, no new start") {
    Harness h;
    REQUIRE(h.sched->put_task(task("echo")));
    std::string a = h.call("echo");
    EnvId env = h.envs.last();
    h.envs.ready(env);
    h.envs.answer(env, Status::ok);
    auto envs = h.sched->environments();
    REQUIRE(envs.size() == 1);
    CHECK(envs[0].state == "idle");
    std::string b = h.call("echo");
    CHECK(h.envs.started.size() == 1);
    CHECK(h.envs.envs[env].served == std::vector<std::string>{a, b});
    h.envs.answer(env, Status::function_error, "{\"errorMessage\":\"x\"}");
    CHECK(h.outcome(b).status == Status::function_error);
    CHECK(h.sched->metrics().warm_dispatches == 1);
    CHECK(h.sched->metrics().cold_dispatches == 1);
    CHECK(h.sched->environments()[0].invocations == 2);
    // function_error does not make the environment suspect
    CHECK(h.envs.stops.empty());
}

TEST_CASE("per-task concurrency limit: at most max_concurrency environments, the rest wait FIFO") {
    Harness h;
    REQUIRE(h.sched->put_task(task("work", 2)));
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(h.call("work", std::to_string(i)));
    REQUIRE(h.envs.started.size() == 2);
    EnvId e1 = h.envs.started[0], e2 = h.envs.started[1];
    h.envs.ready(e1);
    h.envs.ready(e2);
    CHECK(h.envs.envs[e1].served == std::vector<std::string>{ids[0]});
    CHECK(h.envs.envs[e2].served == std::vector<std::string>{ids[1]});
    CHECK(h.status("work").queued == 3);
    CHECK(h.status("work").running == 2);
    h.envs.answer(e2, Status::ok);
    CHECK(h.envs.envs[e2].served.back() == ids[2]);  // FIFO
    h.envs.answer(e1, Status::ok);
    CHECK(h.envs.envs[e1].served.back() == ids[3]);
    h.envs.answer(e1, Status::ok);
    CHECK(h.envs.envs[e1].served.back() == ids[4]);
    CHECK(h.envs.started.size() == 2);
}

TEST_CASE("global limit: another task's longest-idle environment is evicted to make room") {
    Config c;
    c.max_environments = 2;
    Harness h(c);
    REQUIRE(h.sched->put_task(task("a")));
    REQUIRE(h.sched->put_task(task("b")));
    REQUIRE(h.sched->put_task(task("c")));
    h.call("a");
    EnvId ea = h.envs.last();
    h.envs.ready(ea);
    h.envs.answer(ea, Status::ok);
    h.timers.advance(10s);
    h.call("b");
    EnvId eb = h.envs.last();
    h.envs.ready(eb);
    h.envs.answer(eb, Status::ok);  // a idle since t0, b idle since t0+10s

    std::string c1 = h.call("c");
    CHECK(h.envs.started.size() == 2);  // the gateway is full: c waits
    REQUIRE(h.envs.stops == std::vector<EnvId>{ea});  // a idled longest
    CHECK(h.status("c").queued == 1);
    h.envs.exit(ea, ExitInfo::Reason::stopped);
    REQUIRE(h.envs.started.size() == 3);
    EnvId ec = h.envs.last();
    CHECK(h.envs.envs[ec].task == "c");
    h.envs.ready(ec);
    h.envs.answer(ec, Status::ok);
    CHECK(h.outcome(c1).status == Status::ok);
    CHECK(h.envs.alive().size() == 2);
}

TEST_CASE("global limit without idle environments: the invocation waits for a slot") {
    Config c;
    c.max_environments = 1;
    Harness h(c);
    REQUIRE(h.sched->put_task(task("a")));
    REQUIRE(h.sched->put_task(task("b")));
    std::string a1 = h.call("a");
    EnvId ea = h.envs.last();
    h.envs.ready(ea);
    std::string b1 = h.call("b");
    CHECK(h.envs.started.size() == 1);
    CHECK(h.envs.stops.empty());  // a busy environment is never evicted
    h.envs.answer(ea, Status::ok);
    // a is idle now and b waits: a's environment is evicted for b
    REQUIRE(h.envs.stops == std::vector<EnvId>{ea});
    h.envs.exit(ea, ExitInfo::Reason::stopped);
    EnvId eb = h.envs.last();
    CHECK(h.envs.envs[eb].task == "b");
    h.envs.ready(eb);
    h.envs.answer(eb, Status::ok);
    CHECK(h.outcome(b1).status == Status::ok);
}

TEST_CASE("fairness: a freed gateway slot goes to the task whose oldest invocation is oldest") {
    Config c;
    c.max_environments = 1;
    Harness h(c);
    for (auto n : {"a", "b", "c"}) REQUIRE(h.sched->put_task(task(n)));
    std::string a1 = h.call("a");
    EnvId ea = h.envs.last();
    h.envs.ready(ea);
    std::string c1 = h.call("c");  // c's waits longest
    std::string b1 = h.call("b");
    h.envs.answer(ea, Status::ok);
    h.envs.exit(ea, ExitInfo::Reason::stopped);
    CHECK(h.envs.envs[h.envs.last()].task == "c");
}

TEST_CASE("queue full: invoke fails busy with the limit in the message, nothing is lost") {
    Config c;
    c.queue_limit = 2;
    Harness h(c);
    REQUIRE(h.sched->put_task(task("a")));
    REQUIRE(h.sched->put_task(task("b")));
    std::string a1 = h.call("a");  // handed to the environment started for it
    std::string a2 = h.call("a");  // queued: 1
    std::string a3 = h.call("a");  // queued: 2
    auto r = h.try_call("b");      // the limit is across all tasks
    REQUIRE_FALSE(r);
    CHECK(r.error().code == base::Errc::busy);
    CHECK(r.error().message.find("queue_limit = 2") != std::string::npos);
    CHECK(h.sched->metrics().rejected_busy == 1);
    EnvId e = h.envs.last();
    h.envs.ready(e);
    h.envs.answer(e, Status::ok);  // a2 leaves the queue for the environment: room again
    std::string b1 = h.call("b");
    h.envs.answer(e, Status::ok);
    h.envs.answer(e, Status::ok);
    for (auto& id : {a1, a2, a3}) CHECK(h.outcome(id).status == Status::ok);
    CHECK(h.envs.envs[e].served == std::vector<std::string>{a1, a2, a3});
}

TEST_CASE("idle reclaim: an idle environment is stopped after idle_timeout, reset by use") {
    Config c;
    c.idle_timeout = 60s;
    Harness h(c);
    REQUIRE(h.sched->put_task(task("a")));
    h.call("a");
    EnvId e = h.envs.last();
    h.envs.ready(e);
    h.envs.answer(e, Status::ok);
    h.timers.advance(50s);
    h.call("a");  // used again: the idle clock restarts when it is idle again
    h.envs.answer(e, Status::ok);
    h.timers.advance(50s);
    CHECK(h.envs.stops.empty());
    h.timers.advance(10s);
    REQUIRE(h.envs.stops == std::vector<EnvId>{e});
    CHECK(h.sched->environments()[0].state == "stopping");
    h.envs.exit(e, ExitInfo::Reason::stopped);
    CHECK(h.sched->environments().empty());
    CHECK(h.sched->metrics().environments_failed == 0);
}

TEST_CASE("backstop: no result by timeout + 2s ends the invocation timeout and stops the env") {
    Harness h;
    auto m = task("slow");
    m.timeout = 5s;
    REQUIRE(h.sched->put_task(m));
    std::string id = h.call("slow");
    EnvId e = h.envs.last();
    h.timers.advance(100s);  // the backstop starts at dispatch, not at accept
    CHECK_FALSE(h.has_outcome(id));
    h.envs.ready(e);
    h.timers.advance(6999ms);
    CHECK_FALSE(h.has_outcome(id));
    h.timers.advance(1ms);
    CHECK(h.outcome(id).status == Status::timeout);
    CHECK(h.envs.stops == std::vector<EnvId>{e});
    h.envs.exit(e, ExitInfo::Reason::stopped);
    CHECK(h.outcome(id).status == Status::timeout);  // still exactly one outcome
}

TEST_CASE("crash while busy ends the invocation crashed; a fresh env serves the next one") {
    Harness h;
    REQUIRE(h.sched->put_task(task("a")));
    std::string a1 = h.call("a");
    std::string a2 = h.call("a");
    EnvId e = h.envs.last();
    h.envs.ready(e);
    h.envs.exit(e, ExitInfo::Reason::crashed, 11);
    Outcome o = h.outcome(a1);
    CHECK(o.status == Status::crashed);
    CHECK(o.detail.find("signal 11") != std::string::npos);
    REQUIRE(h.envs.started.size() == 2);
    h.envs.ready(h.envs.last());
    h.envs.answer(h.envs.last(), Status::ok);
    CHECK(h.outcome(a2).status == Status::ok);
    CHECK(h.sched->metrics().environments_failed == 0);  // it had been ready
}

TEST_CASE("out of memory: reported as out_of_memory with the limit") {
    Harness h;
    REQUIRE(h.sched->put_task(task("hog")));
    std::string id = h.call("hog");
    EnvId e = h.envs.last();
    h.envs.ready(e);
    h.envs.exit(e, ExitInfo::Reason::out_of_memory, 9);
    CHECK(h.outcome(id).status == Status::out_of_memory);
    CHECK(h.outcome(id).detail.find(std::to_string(64ull << 20)) != std::string::npos);
    CHECK(h.count(Status::out_of_memory) == 1);
}

TEST_CASE("a suspect result (timeout/out_of_memory/crashed from the env) stops the environment") {
    Harness h;
    REQUIRE(h.sched->put_task(task("a")));
    std::string id = h.call("a");
    EnvId e = h.envs.last();
    h.envs.ready(e);
    h.envs.answer(e, Status::timeout, "");
    CHECK(h.outcome(id).status == Status::timeout);
    CHECK(h.envs.stops == std::vector<EnvId>{e});
}

TEST_CASE("init_error: an env that exits before ready fails the invocation it was started for") {
    Harness h;
    REQUIRE(h.sched->put_task(task("bad")));
    std::string a1 = h.call("bad");
    h.envs.exit(h.envs.last(), ExitInfo::Reason::init_error, 1);
    CHECK(h.outcome(a1).status == Status::init_error);
    CHECK(h.sched->metrics().environments_failed == 1);

    h.envs.fail_next_start = base::Error{base::Errc::io, "clone3: EPERM"};
    std::string a2 = h.call("bad");
    CHECK(h.outcome(a2).status == Status::init_error);
    CHECK(h.outcome(a2).detail.find("clone3: EPERM") != std::string::npos);
    CHECK(h.sched->metrics().environments_failed == 2);
    CHECK(h.count(Status::init_error) == 2);
}

TEST_CASE("re-entrant ports: ready inside start, result inside invoke, exit inside stop") {
    Config c;
    c.idle_timeout = 1s;
    Harness h(c);
    h.envs.ready_inside_start = true;
    h.envs.answer_inside_invoke = true;
    h.envs.exit_inside_stop = true;
    REQUIRE(h.sched->put_task(task("a")));
    std::string a1 = h.call("a", "x");  // start -> ready -> invoke -> result, all inside
    CHECK(h.outcome(a1).payload == "sync:x");
    std::string a2 = h.call("a", "y");
    CHECK(h.outcome(a2).payload == "sync:y");
    CHECK(h.envs.started.size() == 1);
    h.timers.advance(1s);  // idle reclaim: stop -> exit inside
    CHECK(h.sched->environments().empty());
    CHECK(h.sched->tasks()[0].environments == 0);
}

TEST_CASE("re-entrant ports: an environment that dies inside start() fails its invocation") {
    Harness h;
    h.envs.die_inside_start = true;
    REQUIRE(h.sched->put_task(task("a")));
    std::string id = h.call("a");
    CHECK(h.outcome(id).status == Status::init_error);
    CHECK(h.outcome(id).detail.find("code 127") == std::string::npos);  // reason init_error
    CHECK(h.outcome(id).detail.find("failed to initialise") != std::string::npos);
    CHECK(h.sched->environments().empty());
    CHECK(h.sched->metrics().environments_failed == 1);
    CHECK(h.sched->metrics().environments_started == 1);
}

TEST_CASE("a Done callback may invoke again; it runs after the scheduler's state change") {
    Harness h;
    REQUIRE(h.sched->put_task(task("a")));
    std::vector<std::string> chain;
    std::function<void(const Outcome&)> again = [&](const Outcome&) {
        if (chain.size() < 3) {
            auto id = h.sched->invoke("a", "next", false, again);
            REQUIRE(id);
            chain.push_back(*id);
        }
    };
    auto first = h.sched->invoke("a", "first", false, again);
    REQUIRE(first);
    EnvId e = h.envs.last();
    h.envs.ready(e);
    for (int i = 0; i < 3; ++i) h.envs.answer(e, Status::ok);
    CHECK(chain.size() == 3);
    CHECK(h.envs.envs[e].served.size() == 4);
    CHECK(h.envs.started.size() == 1);  // each one found the env idle again: warm
}

TEST_CASE("ids are unique 16-hex-digit strings") {
    Harness h;
    REQUIRE(h.sched->put_task(task("a")));
    std::set<std::string> ids;
    for (int i = 0; i < 200; ++i) {
        std::string id = h.call("a");
        CHECK(id.size() == 16);
        CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
        ids.insert(id);
    }
    CHECK(ids.size() == 200);
}

TEST_CASE("invoke on an unknown task is not_found") {
    Harness h;
    auto r = h.try_call("ghost");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == base::Errc::not_found);
    CHECK(r.error().message.find("ghost") != std::string::npos);
}
