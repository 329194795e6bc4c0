// Nothing is lost: random interleavings of invocations, environment events, timer firings,
// task changes and shutdown; every accepted invocation must end exactly once.
#include <doctest/doctest.h>

#include <random>

#include "tests/unit/scheduler/fakes.hpp"

using namespace fakes;
using namespace std::chrono_literals;

namespace {

const char* const kTasks[] = {"a", "b", "c", "r"};

manifest::Manifest definition(const std::string& name, int version) {
    manifest::Manifest m;
    if (name == "a") m = task(name, 2);
    if (name == "b") m = task(name, 1);
    if (name == "c") m = task(name, 3);
    if (name == "r") m = task(name, 1, manifest::Mode::long_lived);
    m.version = std::to_string(version);
    return m;
}

template <class Pred>
std::optional<EnvId> pick(std::mt19937& rng, const FakeEnvironments& envs, Pred pred) {
    std::vector<EnvId> ids;
    for (const auto& [id, r] : envs.envs) {
        if (!r.exited && pred(r)) ids.push_back(id);
    }
    if (ids.empty()) return std::nullopt;
    return ids[rng() % ids.size()];
}

void random_step(std::mt19937& rng, Harness& h, int& version, std::set<std::string>& async_ids) {
    auto& envs = h.envs;
    switch (rng() % 12) {
        case 0: case 1: case 2: {
            std::string name = kTasks[rng() % 4];
            bool async = rng() % 2;
            auto id = h.try_call(name, "p", async);
            if (id && async) async_ids.insert(*id);
            break;
        }
        case 3: case 4:
            if (auto e = pick(rng, envs, [](auto& r) { return !r.ready; })) envs.ready(*e);
            break;
        case 5: case 6: {
            static const Status kStatuses[] = {Status::ok, Status::ok, Status::function_error,
                                               Status::timeout, Status::crashed};
            if (auto e = pick(rng, envs, [](auto& r) { return r.current.has_value(); })) {
                envs.answer(*e, kStatuses[rng() % 5]);
            }
            break;
        }
        case 7: {
            static const ExitInfo::Reason kReasons[] = {
                ExitInfo::Reason::exited, ExitInfo::Reason::crashed,
                ExitInfo::Reason::out_of_memory, ExitInfo::Reason::init_error};
            if (auto e = pick(rng, envs, [](auto&) { return true; })) {
                envs.exit(*e, kReasons[rng() % 4], 1);
            }
            break;
        }
        case 8:
            if (auto e = pick(rng, envs, [](auto& r) { return r.stopped; })) {
                envs.exit(*e, ExitInfo::Reason::stopped);
            }
            break;
        case 9: h.timers.advance(std::chrono::milliseconds(rng() % 8000)); break;
        case 10: {
            std::string name = kTasks[rng() % 4];
            if (rng() % 3 == 0) {
                (void)h.sched->remove_task(name);
            } else {
                (void)h.sched->put_task(definition(name, ++version));
            }
            break;
        }
        case 11: h.timers.advance(std::chrono::seconds(rng() % 120)); break;
    }
}

}  // namespace

TEST_CASE("nothing is lost under random events, with and without shutdown") {
    std::map<std::string, std::uint64_t> seen;  // coverage of the generator, over all seeds
    std::uint64_t warm = 0, cold = 0, rejected = 0, failed_envs = 0;
    for (unsigned seed = 1; seed <= 300; ++seed) {
        CAPTURE(seed);
        std::mt19937 rng(seed);
        Config c;
        c.queue_limit = 8;
        c.max_environments = 3;
        c.idle_timeout = 10s;
        Harness h(c);
        h.envs.ready_inside_start = rng() % 4 == 0;
        h.envs.exit_inside_stop = rng() % 2 == 0;
        h.envs.answer_inside_invoke = rng() % 8 == 0;
        int version = 0;
        for (const char* name : kTasks) REQUIRE(h.sched->put_task(definition(name, ++version)));
        std::set<std::string> async_ids;

        for (int step = 0; step < 300; ++step) {
            random_step(rng, h, version, async_ids);
            REQUIRE(h.envs.alive().size() <= c.max_environments);
        }

        const bool with_shutdown = seed % 2 == 0;
        int shutdown_done = 0;
        if (with_shutdown) h.sched->shutdown([&] { ++shutdown_done; });
        // Let everything finish: environments become ready, answer, exit when stopped.
        for (int round = 0; round < 200; ++round) {
            for (auto& [id, r] : h.envs.envs) {
                if (!r.exited && !r.ready) h.envs.ready(id);
            }
            for (EnvId id : h.envs.busy()) {
                if (h.envs.envs.at(id).current) h.envs.answer(id, Status::ok);
            }
            h.envs.exit_stopped();
            h.timers.advance(2s);
        }

        for (const std::string& id : h.accepted) {
            CAPTURE(id);
            const bool async = async_ids.count(id) > 0;
            const std::size_t outcomes = h.outcomes.count(id) ? h.outcomes[id].size() : 0;
            if (!async) {
                CHECK(outcomes == 1);
                continue;
            }
            const std::size_t finishes =
                h.journal.finished.count(id) ? h.journal.finished[id].size() : 0;
            if (with_shutdown) {
                CHECK(finishes <= 1);  // unfinished ones stay pending for the restart
            } else {
                CHECK(finishes == 1);
            }
            CHECK(outcomes == finishes);
        }
        if (!with_shutdown) {
            std::size_t queued = 0;
            for (const TaskStatus& t : h.sched->tasks()) queued += t.queued;
            CHECK(queued == 0);
            h.sched->shutdown([&] { ++shutdown_done; });
            for (int round = 0; round < 5; ++round) {
                h.envs.exit_stopped();
                h.timers.advance(10s);
            }
        }
        CHECK(shutdown_done == 1);
        CHECK(h.sched->environments().empty());
        std::uint64_t by_status = 0;
        for (auto& [name, n] : h.sched->metrics().invocations_by_status) by_status += n;
        std::uint64_t ended = 0;
        for (auto& [id, v] : h.outcomes) ended += v.size();
        CHECK(by_status == ended);
        for (auto& [name, n] : h.sched->metrics().invocations_by_status) seen[name] += n;
        warm += h.sched->metrics().warm_dispatches;
        cold += h.sched->metrics().cold_dispatches;
        rejected += h.sched->metrics().rejected_busy;
        failed_envs += h.sched->metrics().environments_failed;
    }
    // The random walk must actually reach every ending, else the test proves little.
    for (const char* status : {"ok", "function_error", "timeout", "out_of_memory", "crashed",
                               "init_error", "cancelled"}) {
        CAPTURE(status);
        CHECK(seen[status] > 0);
    }
    MESSAGE("outcomes: ok=" << seen["ok"] << " cancelled=" << seen["cancelled"] << " init_error="
            << seen["init_error"] << " warm=" << warm << " cold=" << cold
            << " rejected=" << rejected << " failed_envs=" << failed_envs);
    CHECK(warm > 0);
    CHECK(cold > 0);
    CHECK(rejected > 0);
}
