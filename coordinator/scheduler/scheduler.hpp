// gaffer::scheduler — the queue, dispatch, warm pool, concurrency limits and the restart
// budget of long-lived tasks. Domain code: it knows no libuv, SQLite or cgroups; it talks
// to the world through the ports below, so tests drive it with fakes and a manual clock.
//
// Threading: every call, and every port callback, happens on the loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/base.hpp"
#include "tasks/manifest/manifest.hpp"

namespace gaffer::scheduler {

using EnvId = std::uint64_t;

struct Invocation {
    std::string id;       // unique; an async invocation keeps it across restarts
    std::string task;
    std::string payload;  // the event
    bool async = false;
};

enum class Status {
    ok,              // the task returned a response
    function_error,  // the task reported an error (Lambda /error, or a non-zero exit)
    timeout,         // the invocation ran past the task's timeout
    out_of_memory,   // the cgroup's memory limit killed it
    crashed,         // the task process died (signal, exit) without answering
    init_error,      // the environment never became ready
    cancelled,       // the task was removed or the daemon shut down before it ran
};
std::string_view status_name(Status status);

struct Outcome {
    Status status = Status::ok;
    std::string payload;  // response body, or the task's error document
    std::string detail;   // for a person when status != ok
};

// How an environment ended.
struct ExitInfo {
    enum class Reason { stopped, exited, crashed, out_of_memory, init_error } reason;
    int code = 0;        // exit status or signal number
    std::string detail;
};

// ---- Ports ---------------------------------------------------------------------------

// The scheduler's side of an environment's life. Implemented by Scheduler.
class EnvironmentEvents {
public:
    virtual ~EnvironmentEvents() = default;
    virtual void on_ready(EnvId env) = 0;                       // idle, can take an invocation
    virtual void on_result(EnvId env, Outcome outcome) = 0;     // the current invocation ended
    virtual void on_exit(EnvId env, ExitInfo info) = 0;         // the environment is gone
};

// Builds and drives execution environments (real: tasks/environment; tests: a fake).
// After start() succeeds exactly one on_exit() follows eventually; on_ready() may come
// before it. After invoke() exactly one on_result() or on_exit() follows.
class Environments {
public:
    virtual ~Environments() = default;
    virtual base::Result<EnvId> start(const manifest::Manifest& task, EnvironmentEvents& events) = 0;
    virtual void invoke(EnvId env, const Invocation& invocation) = 0;
    virtual void stop(EnvId env, base::Duration grace) = 0;
};

class Timers {
public:
    using Id = std::uint64_t;
    virtual ~Timers() = default;
    virtual Id start(base::Duration after, std::function<void()> fire) = 0;
    virtual void cancel(Id timer) = 0;  // no-op for a fired or unknown timer
};

// The durable record of accepted asynchronous invocations (real: SQLite).
class Journal {
public:
    virtual ~Journal() = default;
    virtual base::Result<void> accept(const Invocation& invocation) = 0;  // before the caller hears "accepted"
    virtual base::Result<void> finish(const std::string& id, const Outcome& outcome) = 0;
    virtual base::Result<std::vector<Invocation>> pending() = 0;  // accepted, unfinished, oldest first
};

// ---- The scheduler -------------------------------------------------------------------

struct Config {
    std::size_t queue_limit = 1000;        // queued invocations, all tasks together
    std::size_t max_environments = 32;     // live environments on the gateway
    base::Duration idle_timeout = std::chrono::minutes(5);  // reclaim idle environments
    base::Duration restart_backoff_initial = std::chrono::seconds(1);
    base::Duration restart_backoff_max = std::chrono::seconds(60);
    unsigned broken_after_failures = 3;    // within broken_window: Greengrass's rule
    base::Duration broken_window = std::chrono::hours(1);
    base::Duration stop_grace = std::chrono::seconds(5);
};

struct TaskStatus {
    std::string name;
    std::string owner;
    std::string state;            // "ready", "running", "starting", "backoff", "broken"
    std::size_t queued = 0;
    std::size_t running = 0;      // invocations in flight
    std::size_t environments = 0;
    unsigned recent_failures = 0;
};

struct EnvironmentInfo {
    EnvId id = 0;
    std::string task;
    std::string state;            // "starting", "idle", "busy", "stopping"
    base::TimePoint since{};
    std::uint64_t invocations = 0;
};

// Counters for /metrics. Latencies are from accept to outcome, in seconds.
struct Metrics {
    std::map<std::string, std::uint64_t> invocations_by_status;  // status_name -> count
    std::uint64_t rejected_busy = 0;
    std::uint64_t environments_started = 0;
    std::uint64_t environments_failed = 0;
    std::uint64_t warm_dispatches = 0;
    std::uint64_t cold_dispatches = 0;
    static constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,   5,     10};
    std::uint64_t latency_counts[std::size(kBuckets) + 1] = {};  // last: +Inf
    double latency_sum = 0;
    std::uint64_t latency_count = 0;
};

class Scheduler final : public EnvironmentEvents {
public:
    using Done = std::function<void(const Outcome&)>;

    Scheduler(Config config, const base::Clock& clock, Timers& timers, Environments& envs,
              Journal& journal);
    ~Scheduler() override;

    // Adds or replaces a task. A long-lived task's environment starts now. Replacing a
    // task drains its old environments.
    base::Result<void> put_task(manifest::Manifest task);
    // Removes a task: queued invocations end `cancelled`, environments stop.
    base::Result<void> remove_task(std::string_view name);

    // Re-queues what the journal holds as accepted and unfinished. Call once, after the
    // tasks are back, before taking new requests.
    base::Result<void> recover();

    // Queues an invocation. Errors: not_found (no such task), invalid (a long-lived
    // `process` task takes no invocations), busy (queue full), io (journal failed).
    // Sync: `done` runs exactly once with the outcome. Async: the invocation is in the
    // journal before this returns; `done` (may be empty) runs when it ends.
    // Returns the invocation id.
    base::Result<std::string> invoke(std::string_view task, std::string payload, bool async,
                                     Done done);

    // Stop taking invocations, let in-flight ones finish (up to stop_grace), stop every
    // environment, then call `done`. Queued async invocations stay in the journal.
    void shutdown(std::function<void()> done);

    std::vector<TaskStatus> tasks() const;
    std::vector<EnvironmentInfo> environments() const;
    const Metrics& metrics() const;
    const manifest::Manifest* find_task(std::string_view name) const;

    void on_ready(EnvId env) override;
    void on_result(EnvId env, Outcome outcome) override;
    void on_exit(EnvId env, ExitInfo info) override;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace gaffer::scheduler
