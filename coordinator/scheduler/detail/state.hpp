// The scheduler's state and the operations on it. Private to coordinator/scheduler/.
//
// Re-entrancy design: every entry point (public call, port callback, timer) holds an
// Entry. Only the outermost Entry, when it unwinds, runs settle(): the dispatch pump and
// then the queued Done callbacks, repeating until neither has work. Nested entries (a port
// calling back synchronously, a Done calling invoke()) only change state and leave the
// pump to that outer settle(). Code that calls a port looks its objects up again by id
// afterwards: the call may have changed or erased them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/scheduler/detail/queue.hpp"
#include "coordinator/scheduler/detail/restart_budget.hpp"
#include "coordinator/scheduler/scheduler.hpp"

namespace gaffer::scheduler {

namespace detail {

struct Env {
    enum class Phase { starting, idle, busy, stopping };

    EnvId id = 0;
    std::string task;
    std::shared_ptr<const manifest::Manifest> manifest;  // the version it was started with
    Phase phase = Phase::starting;
    base::TimePoint since{};     // when it entered `phase`
    base::TimePoint ready_at{};
    bool was_ready = false;
    bool long_lived = false;
    bool draining = false;       // its task was replaced: stop after the current invocation
    bool evicted = false;        // stopped to make room for another task
    std::uint64_t invocations = 0;
    // Starting: the invocation this environment was started for. Busy: the running one.
    // Stopping: always empty (the invocation was ended or abandoned before stop()).
    std::optional<Pending> current;
    std::optional<Timers::Id> idle_timer;
    std::optional<Timers::Id> backstop_timer;
};

struct Task {
    std::shared_ptr<const manifest::Manifest> manifest;
    RestartBudget budget;
    std::optional<Timers::Id> restart_timer;  // set: in backoff
    std::uint64_t demand_seq = 0;             // long-lived: when it began wanting an environment
};

struct Completion {
    Scheduler::Done done;
    Outcome outcome;
};

// An environment event that arrived inside Environments::start(), before we knew its id.
struct EarlyEvent {
    enum class Kind { ready, result, exit };
    Kind kind = Kind::ready;
    EnvId env = 0;
    Outcome outcome;                              // Kind::result
    ExitInfo exit{ExitInfo::Reason::exited, 0, {}};  // Kind::exit
};

}  // namespace detail

struct Scheduler::State {
    State(Config config, const base::Clock& clock, Timers& timers, Environments& envs,
          Journal& journal, EnvironmentEvents& self);
    ~State();

    class Entry {
    public:
        explicit Entry(State& s) : s_(s) { ++s_.depth_; }
        ~Entry() {
            if (--s_.depth_ == 0) s_.settle();
        }
        Entry(const Entry&) = delete;
        Entry& operator=(const Entry&) = delete;

    private:
        State& s_;
    };

    // intake.cpp
    base::Result<void> put_task(manifest::Manifest task);
    base::Result<void> remove_task(std::string_view name);
    base::Result<void> recover();
    base::Result<std::string> invoke(std::string_view task, std::string payload, bool async,
                                     Done done);

    // environment_events.cpp
    void on_ready(EnvId env);
    void on_result(EnvId env, Outcome outcome);
    void on_exit(EnvId env, ExitInfo info);

    // shutdown.cpp
    void shutdown(std::function<void()> done);

    // views.cpp
    std::vector<TaskStatus> tasks() const;
    std::vector<EnvironmentInfo> environments() const;

    // ---- internals ----
    // dispatch.cpp
    void settle();
    bool pump_step();
    bool dispatch_warm();
    bool start_or_evict();
    void start_env(const std::string& task, std::optional<detail::Pending> assigned);
    void run(EnvId env, detail::Pending pending, bool cold);
    void become_idle(EnvId env);
    void stop_env(EnvId env);
    // Environments of `task` that serve or may serve its current manifest (not stopping, not
    // draining): what max_concurrency limits.
    std::size_t serving_envs_of(const std::string& task) const;
    // Every environment of `task` still alive, stopping or draining included.
    std::size_t all_envs_of(const std::string& task) const;

    // environment_events.cpp
    void on_backstop(EnvId env);
    void on_idle_timeout(EnvId env);
    void on_restart_due(const std::string& task);
    void long_lived_failed(const std::string& task);

    // outcomes.cpp
    void finish(detail::Pending pending, Outcome outcome);
    void cancel_or_abandon(detail::Pending pending, std::string detail);  // shutdown rule
    void fail_all_queued(const std::string& task, Status status, const std::string& detail);
    void cancel_timer(std::optional<Timers::Id>& timer);
    std::string new_id();

    // shutdown.cpp
    void on_grace_over();
    void end_grace_if_idle();

    bool can_take_invocations(const manifest::Manifest& m) const;
    detail::Env* find_env(EnvId id);
    detail::Task* find_task(std::string_view name);
    const detail::Task* find_task(std::string_view name) const;

    Config config_;
    const base::Clock& clock_;
    Timers& timers_;
    Environments& envs_port_;
    Journal& journal_;
    EnvironmentEvents& self_;

    std::map<std::string, detail::Task, std::less<>> tasks_;
    std::map<EnvId, detail::Env> envs_;
    detail::InvocationQueue queue_;
    std::vector<detail::Completion> completions_;
    Metrics metrics_;
    std::uint64_t next_seq_ = 1;
    std::mt19937_64 rng_;

    int depth_ = 0;
    bool in_start_ = false;
    std::vector<detail::EarlyEvent> early_events_;

    bool recovered_ = false;
    bool shutting_down_ = false;
    std::optional<Timers::Id> grace_timer_;
    std::vector<std::function<void()>> shutdown_done_;
};

}  // namespace gaffer::scheduler
