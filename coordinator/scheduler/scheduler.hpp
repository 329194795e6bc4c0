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
    enum class Reason { stopped, exited, crashed, out_of_memory, init_error } reason = Reason::stopped;
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
    // Invocations waiting for an environment, all tasks together. One handed to an
    // environment that is still starting no longer counts (max_environments bounds those).
    std::size_t queue_limit = 1000;
    std::size_t max_environments = 32;     // live environments on the gateway
    base::Duration idle_timeout = std::chrono::minutes(5);  // reclaim idle environments
    base::Duration restart_backoff_initial = std::chrono::seconds(1);
    base::Duration restart_backoff_max = std::chrono::seconds(60);
    unsigned broken_after_failures = 3;    // within broken_window: Greengrass's rule; 0: never
    base::Duration broken_window = std::chrono::hours(1);
    // A long-lived environment that stayed up this long after becoming ready resets the
    // restart delay to restart_backoff_initial (its failures still count for `broken`).
    base::Duration stable_run = std::chrono::seconds(60);
    // The grace every stop() gets, and how long shutdown() waits for in-flight invocations.
    base::Duration stop_grace = std::chrono::seconds(5);
};

struct TaskStatus {
    std::string name;
    std::string owner;
    // On-demand: "ready". Long-lived: "starting" (its environment is not up yet),
    // "running", "backoff" (waiting to restart it), "broken" (not restarted).
    std::string state;
    std::size_t queued = 0;       // waiting, including those whose environment is starting
    std::size_t running = 0;      // invocations in flight
    std::size_t environments = 0; // alive and not being stopped
    unsigned recent_failures = 0;
};

struct EnvironmentInfo {
    EnvId id = 0;
    std::string task;
    std::string state;            // "starting", "idle", "busy", "stopping"
    base::TimePoint since{};
    std::uint64_t invocations = 0;
};

// Counters for /metrics. Latencies are from invoke() to outcome on the injected clock, in
// seconds; recovered invocations (accepted by an earlier process) are counted by status
// but not in the latency histogram.
struct Metrics {
    std::map<std::string, std::uint64_t> invocations_by_status;  // status_name -> count
    std::uint64_t rejected_busy = 0;
    std::uint64_t environments_started = 0;
    std::uint64_t environments_failed = 0;  // start() failed, or exited before ready unasked
    std::uint64_t warm_dispatches = 0;      // to an environment that was idle
    std::uint64_t cold_dispatches = 0;      // to the environment started for it
    static constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,   5,     10};
    // Per bucket, NOT cumulative: latency_counts[i] counts latencies in
    // (kBuckets[i-1], kBuckets[i]]; the last entry counts those above every bound (+Inf).
    std::uint64_t latency_counts[std::size(kBuckets) + 1] = {};
    double latency_sum = 0;
    std::uint64_t latency_count = 0;
    std::uint64_t journal_errors = 0;  // Journal::finish failed (the entry re-runs after restart)
};

// Dispatch rules, in short (docs/scheduling.md has the long form):
//  - one bounded queue (Config::queue_limit, all tasks together), FIFO per task;
//  - an idle warm environment of the task first, else a new one if the task is under its
//    manifest's max_concurrency and the gateway under max_environments, else the
//    invocation waits; when the gateway is full, the longest-idle environment of another
//    task is stopped to make room; a free gateway slot goes to the task whose oldest
//    waiting invocation is oldest;
//  - a new on-demand environment is started FOR the invocation at the head of the queue:
//    if it never becomes ready, that invocation ends `init_error`;
//  - one invocation at a time per environment; a backstop timer (manifest timeout + 2 s)
//    ends an invocation `timeout` if neither result nor exit arrives;
//  - an environment whose invocation ended timeout / out_of_memory / crashed is stopped;
//    idle on-demand environments are stopped after Config::idle_timeout;
//  - a long-lived task keeps one environment up, restarted with doubling backoff after
//    unexpected exits, and "broken" (not restarted) after broken_after_failures exits
//    within broken_window; put_task() again resets it.
//
// Every accepted invocation ends exactly once: `done` runs once (sync) and the journal
// gets one finish() (async) — except that shutdown() leaves queued and cut-off async
// invocations unfinished in the journal so that they run after a restart.
//
// Re-entrancy: ports may call back into the scheduler synchronously (an Environments
// fake may call on_ready() inside start(), on_result() inside invoke(), on_exit() inside
// stop()), and a Done callback may call invoke(), put_task() or remove_task(). Done
// callbacks run only when the outermost scheduler call unwinds, never in the middle of a
// state change; so `done` may run before invoke() returns. A Done callback must not throw
// and must not destroy the Scheduler; the shutdown() callback may destroy it.
class Scheduler final : public EnvironmentEvents {
public:
    using Done = std::function<void(const Outcome&)>;

    // The references must outlive the Scheduler. Destroying it cancels its timers and
    // drops whatever is queued without calling anyone: call shutdown() first.
    Scheduler(Config config, const base::Clock& clock, Timers& timers, Environments& envs,
              Journal& journal);
    ~Scheduler() override;
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Adds or replaces a task. A long-lived task's environment starts now. Replacing a
    // task drains its old environments: a busy one finishes its invocation, then stops;
    // invocations not yet running use the new manifest; a long-lived task's new
    // environment starts once the old one has exited. Resets a broken task.
    // Errors: invalid (empty name, max_concurrency 0, timeout <= 0), unavailable
    // (shutting down).
    base::Result<void> put_task(manifest::Manifest task);
    // Removes a task: queued and in-flight invocations end `cancelled`, environments
    // stop. Errors: not_found.
    base::Result<void> remove_task(std::string_view name);

    // Re-queues what the journal holds as accepted and unfinished (ids kept, queue_limit
    // not applied: they were accepted already). An entry whose task is gone, or now takes
    // no invocations, is finished `cancelled` in the journal. Call once, after the tasks
    // are back, before taking new requests. Errors: the journal's.
    base::Result<void> recover();

    // Queues an invocation. Errors: not_found (no such task), invalid (a long-lived
    // `process` task takes no invocations), unavailable (shutting down, or the task is
    // broken), busy (queue full), the journal's error code (journal failed; nothing
    // queued). Sync: `done` runs exactly once with the outcome. Async: the invocation is
    // in the journal before this returns; `done` (may be empty) runs when it ends.
    // Returns the invocation id.
    base::Result<std::string> invoke(std::string_view task, std::string payload, bool async,
                                     Done done);

    // Stop taking invocations (invoke() and put_task() fail `unavailable`). Queued sync
    // invocations end `cancelled` now; queued async ones stay pending in the journal.
    // Idle and starting environments stop now; in-flight invocations get up to
    // Config::stop_grace to finish, after which their environments are stopped (a sync
    // one ends `cancelled`, an async one stays pending in the journal). `done` runs once
    // every environment has exited (at once if there are none). Calling it again only
    // adds another `done`.
    void shutdown(std::function<void()> done);

    std::vector<TaskStatus> tasks() const;
    std::vector<EnvironmentInfo> environments() const;
    const Metrics& metrics() const;
    // Valid until the next put_task()/remove_task() of that name.
    const manifest::Manifest* find_task(std::string_view name) const;

    void on_ready(EnvId env) override;
    void on_result(EnvId env, Outcome outcome) override;
    void on_exit(EnvId env, ExitInfo info) override;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace gaffer::scheduler
