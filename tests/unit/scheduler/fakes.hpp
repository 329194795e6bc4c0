// Fakes for the scheduler's ports: a manual clock, timers that fire when the test advances
// time, environments the test drives by hand (and that check the port's protocol), and an
// in-memory journal.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coordinator/scheduler/scheduler.hpp"

namespace fakes {

using namespace gaffer;
using namespace gaffer::scheduler;

class ManualClock final : public base::Clock {
public:
    base::TimePoint now() const override { return now_; }
    void set(base::TimePoint t) { now_ = t; }

private:
    base::TimePoint now_{std::chrono::hours(1000)};
};

class FakeTimers final : public Timers {
public:
    explicit FakeTimers(ManualClock& clock) : clock_(clock) {}

    Id start(base::Duration after, std::function<void()> fire) override {
        Id id = next_++;
        armed_[id] = {clock_.now() + after, std::move(fire)};
        return id;
    }
    void cancel(Id timer) override { armed_.erase(timer); }

    // Moves the clock forward, firing due timers in deadline order at their deadlines.
    void advance(base::Duration d) {
        const base::TimePoint target = clock_.now() + d;
        for (;;) {
            auto due = armed_.end();
            for (auto it = armed_.begin(); it != armed_.end(); ++it) {
                if (it->second.deadline <= target &&
                    (due == armed_.end() || it->second.deadline < due->second.deadline)) {
                    due = it;
                }
            }
            if (due == armed_.end()) break;
            clock_.set(std::max(clock_.now(), due->second.deadline));
            std::function<void()> fire = std::move(due->second.fire);
            armed_.erase(due);
            fire();
        }
        clock_.set(target);
    }
    std::size_t armed() const { return armed_.size(); }

private:
    struct Armed {
        base::TimePoint deadline;
        std::function<void()> fire;
    };
    ManualClock& clock_;
    Id next_ = 1;
    std::map<Id, Armed> armed_;
};

class FakeEnvironments final : public Environments {
public:
    struct Record {
        std::string task;
        std::string version;
        bool ready = false;
        bool stopped = false;
        bool exited = false;
        std::optional<std::string> current;  // invocation id in flight
        std::vector<std::string> served;
    };

    // Behaviour knobs for re-entrancy tests.
    bool ready_inside_start = false;
    bool exit_inside_stop = false;
    bool answer_inside_invoke = false;
    bool die_inside_start = false;  // on_exit(init_error) before start() returns the id
    std::optional<base::Error> fail_next_start;

    base::Result<EnvId> start(const manifest::Manifest& task, EnvironmentEvents& events) override {
        events_ = &events;
        if (fail_next_start) {
            base::Error e = *fail_next_start;
            fail_next_start.reset();
            return tl::unexpected<base::Error>(e);
        }
        EnvId id = next_++;
        envs[id] = Record{task.name, task.version};
        started.push_back(id);
        if (ready_inside_start) ready(id);
        if (die_inside_start) exit(id, ExitInfo::Reason::init_error, 127);
        return id;
    }

    void invoke(EnvId env, const Invocation& invocation) override {
        Record& r = envs.at(env);
        REQUIRE(r.ready);
        REQUIRE_FALSE(r.stopped);
        REQUIRE_FALSE(r.exited);
        REQUIRE_FALSE(r.current.has_value());  // one invocation at a time
        r.current = invocation.id;
        r.served.push_back(invocation.id);
        payloads[invocation.id] = invocation.payload;
        if (answer_inside_invoke) answer(env, Status::ok, "sync:" + invocation.payload);
    }

    void stop(EnvId env, base::Duration) override {
        Record& r = envs.at(env);
        REQUIRE_FALSE(r.exited);
        REQUIRE_FALSE(r.stopped);  // stopped once
        r.stopped = true;
        r.current.reset();
        stops.push_back(env);
        if (exit_inside_stop) exit(env, ExitInfo::Reason::stopped);
    }

    // ---- the test's side ----
    void ready(EnvId env) {
        envs.at(env).ready = true;
        events_->on_ready(env);
    }
    void answer(EnvId env, Status status, std::string payload = "ok") {
        Record& r = envs.at(env);
        REQUIRE(r.current.has_value());
        r.current.reset();
        events_->on_result(env, Outcome{status, std::move(payload), {}});
    }
    void exit(EnvId env, ExitInfo::Reason reason, int code = 0) {
        Record& r = envs.at(env);
        REQUIRE_FALSE(r.exited);
        r.exited = true;
        r.current.reset();
        events_->on_exit(env, ExitInfo{reason, code, "test"});
    }
    // Exit every environment we were asked to stop and that has not exited yet.
    void exit_stopped() {
        for (auto& [id, r] : envs) {
            if (r.stopped && !r.exited) exit(id, ExitInfo::Reason::stopped);
        }
    }
    std::vector<EnvId> alive(const std::string& task = {}) const {
        std::vector<EnvId> out;
        for (const auto& [id, r] : envs) {
            if (!r.exited && (task.empty() || r.task == task)) out.push_back(id);
        }
        return out;
    }
    std::vector<EnvId> busy() const {
        std::vector<EnvId> out;
        for (const auto& [id, r] : envs) {
            if (!r.exited && !r.stopped && r.current) out.push_back(id);
        }
        return out;
    }
    EnvId last() const { return started.back(); }

    std::map<EnvId, Record> envs;
    std::vector<EnvId> started;
    std::vector<EnvId> stops;
    std::map<std::string, std::string> payloads;

private:
    EnvironmentEvents* events_ = nullptr;
    EnvId next_ = 100;
};

class FakeJournal final : public Journal {
public:
    bool fail_accept = false;
    std::vector<Invocation> entries;                       // accepted, in order
    std::map<std::string, std::vector<Outcome>> finished;  // id -> finish() calls
    std::vector<std::string> log;                          // "accept:<id>", "finish:<id>"

    base::Result<void> accept(const Invocation& invocation) override {
        if (fail_accept) return base::fail(base::Errc::io, "disk full");
        entries.push_back(invocation);
        log.push_back("accept:" + invocation.id);
        return {};
    }
    base::Result<void> finish(const std::string& id, const Outcome& outcome) override {
        finished[id].push_back(outcome);
        log.push_back("finish:" + id);
        return {};
    }
    base::Result<std::vector<Invocation>> pending() override {
        std::vector<Invocation> out;
        for (const Invocation& inv : entries) {
            if (!finished.count(inv.id)) out.push_back(inv);
        }
        return out;
    }
};

inline manifest::Manifest task(std::string name, std::uint32_t concurrency = 1,
                               manifest::Mode mode = manifest::Mode::on_demand,
                               manifest::Interface iface = manifest::Interface::lambda) {
    manifest::Manifest m;
    m.name = std::move(name);
    m.version = "1";
    m.owner = "alice";
    m.command = {"/task/run"};
    m.mode = mode;
    m.interface = iface;
    m.max_concurrency = concurrency;
    m.timeout = std::chrono::seconds(3);
    return m;
}

// A scheduler wired to the fakes, recording every Done call by invocation id.
struct Harness {
    explicit Harness(Config config = {})
        : timers(clock), sched(std::make_unique<Scheduler>(config, clock, timers, envs, journal)) {}

    std::string call(const std::string& name, std::string payload = "p", bool async = false) {
        auto id = try_call(name, std::move(payload), async);
        REQUIRE_MESSAGE(id.has_value(), (id ? "" : id.error().message));
        return *id;
    }
    // `done` may run before invoke() returns, so outcomes are filed under a call number
    // first and moved under the id once it is known.
    base::Result<std::string> try_call(const std::string& name, std::string payload = "p",
                                       bool async = false) {
        const int call_no = next_call_++;
        auto id = sched->invoke(name, std::move(payload), async, [this, call_no](const Outcome& o) {
            auto it = call_ids_.find(call_no);
            if (it == call_ids_.end()) {
                early_[call_no].push_back(o);
            } else {
                outcomes[it->second].push_back(o);
            }
        });
        if (id) {
            call_ids_[call_no] = *id;
            accepted.push_back(*id);
            auto early = early_.find(call_no);
            if (early != early_.end()) {
                for (auto& o : early->second) outcomes[*id].push_back(o);
                early_.erase(early);
            }
        }
        return id;
    }
    // The single outcome of `id` (fails the test if there is not exactly one).
    Outcome outcome(const std::string& id) {
        auto it = outcomes.find(id);
        REQUIRE_MESSAGE(it != outcomes.end(), "no outcome for " << id);
        REQUIRE(it->second.size() == 1);
        return it->second.front();
    }
    bool has_outcome(const std::string& id) const { return outcomes.count(id) > 0; }
    std::uint64_t count(Status s) const {
        auto& m = sched->metrics().invocations_by_status;
        auto it = m.find(std::string(status_name(s)));
        return it == m.end() ? 0 : it->second;
    }
    TaskStatus status(const std::string& name) const {
        for (auto& t : sched->tasks()) {
            if (t.name == name) return t;
        }
        FAIL("no task " << name);
        return {};
    }

    ManualClock clock;
    FakeTimers timers;
    FakeEnvironments envs;
    FakeJournal journal;
    std::unique_ptr<Scheduler> sched;
    std::map<std::string, std::vector<Outcome>> outcomes;
    std::vector<std::string> accepted;

private:
    int next_call_ = 0;
    std::map<int, std::string> call_ids_;
    std::map<int, std::vector<Outcome>> early_;
};

}  // namespace fakes
