// The dispatch pump: matches waiting invocations with environments, starts and evicts
// environments under the per-task and gateway-wide limits. Runs only from settle(), at the
// outermost scheduler call, one step at a time: each step re-reads the state, because the
// port call it makes may have changed it.
#include <algorithm>
#include <chrono>
#include <utility>

#include "coordinator/scheduler/detail/state.hpp"

namespace gaffer::scheduler {

using detail::Env;
using detail::Pending;

void Scheduler::State::settle() {
    ++depth_;  // entries made from here (ports, Done callbacks) must not settle again
    for (;;) {
        while (pump_step()) {
        }
        if (completions_.empty()) break;
        std::vector<detail::Completion> batch = std::move(completions_);
        completions_.clear();
        for (detail::Completion& c : batch) c.done(c.outcome);
    }
    end_grace_if_idle();
    --depth_;
    if (shutting_down_ && envs_.empty() && !shutdown_done_.empty()) {
        // Last: a shutdown callback may destroy the scheduler.
        std::vector<std::function<void()>> callbacks = std::move(shutdown_done_);
        shutdown_done_.clear();
        for (auto& cb : callbacks) {
            if (cb) cb();
        }
    }
}

bool Scheduler::State::pump_step() {
    if (shutting_down_) return false;
    return dispatch_warm() || start_or_evict();
}

bool Scheduler::State::dispatch_warm() {
    // Per task, its most recently used idle environment: keeping the busy set small lets
    // the surplus go idle long enough to be reclaimed.
    std::map<std::string_view, const Env*> best_idle;
    for (const auto& [id, env] : envs_) {
        if (env.phase != Env::Phase::idle || env.draining) continue;
        const Env*& best = best_idle[env.task];
        if (!best || env.since > best->since) best = &env;
    }
    if (best_idle.empty()) return false;

    const Env* chosen = nullptr;
    std::uint64_t oldest = 0;
    queue_.for_each_waiting([&](const std::string& task, std::uint64_t seq) {
        auto it = best_idle.find(task);
        if (it == best_idle.end()) return;
        if (!chosen || seq < oldest) {
            chosen = it->second;
            oldest = seq;
        }
    });
    if (!chosen) return false;
    EnvId id = chosen->id;
    run(id, queue_.pop(chosen->task), /*cold=*/false);
    return true;
}

bool Scheduler::State::start_or_evict() {
    struct Candidate {
        std::string task;
        std::uint64_t seq;
        bool long_lived;
    };
    std::vector<Candidate> candidates;
    queue_.for_each_waiting([&](const std::string& task, std::uint64_t seq) {
        const detail::Task* t = find_task(task);
        // A long-lived task's invocations wait for its one environment.
        if (!t || t->manifest->mode == manifest::Mode::long_lived) return;
        if (serving_envs_of(task) >= t->manifest->max_concurrency) return;
        candidates.push_back({task, seq, false});
    });
    for (const auto& [name, t] : tasks_) {
        if (t.manifest->mode != manifest::Mode::long_lived) continue;
        if (t.budget.broken() || t.restart_timer) continue;
        // The old environment must be gone first: a service may hold a port or a file.
        if (all_envs_of(name) > 0) continue;
        candidates.push_back({name, t.demand_seq, true});
    }
    if (candidates.empty()) return false;
    std::sort(candidates.begin(), candidates.end(),
              [](const Candidate& a, const Candidate& b) { return a.seq < b.seq; });

    // Slots already on their way: evicted environments that have not exited yet.
    std::size_t incoming = static_cast<std::size_t>(std::count_if(
        envs_.begin(), envs_.end(), [](const auto& e) { return e.second.evicted; }));
    for (const Candidate& c : candidates) {
        if (envs_.size() < config_.max_environments) {
            std::optional<Pending> assigned;
            if (!c.long_lived) assigned = queue_.pop(c.task);
            start_env(c.task, std::move(assigned));
            return true;
        }
        if (incoming > 0) {
            --incoming;  // this candidate takes the next slot that frees
            continue;
        }
        const Env* victim = nullptr;
        for (const auto& [id, env] : envs_) {
            if (env.phase != Env::Phase::idle || env.long_lived || env.task == c.task) continue;
            if (!victim || env.since < victim->since) victim = &env;
        }
        if (!victim) return false;  // oldest first: nobody behind it may jump the line
        EnvId id = victim->id;
        envs_.at(id).evicted = true;
        stop_env(id);
        return true;
    }
    return false;
}

void Scheduler::State::start_env(const std::string& task_name, std::optional<Pending> assigned) {
    std::shared_ptr<const manifest::Manifest> manifest = find_task(task_name)->manifest;
    const bool long_lived = manifest->mode == manifest::Mode::long_lived;

    in_start_ = true;
    early_events_.clear();
    base::Result<EnvId> started = envs_port_.start(*manifest, self_);
    in_start_ = false;
    std::vector<detail::EarlyEvent> early = std::move(early_events_);
    early_events_.clear();

    if (!started) {
        metrics_.environments_failed++;
        if (assigned) {
            finish(std::move(*assigned),
                   Outcome{Status::init_error, {},
                           "environment for task '" + task_name +
                               "' failed to start: " + started.error().message});
        }
        if (long_lived) long_lived_failed(task_name);
        return;
    }
    metrics_.environments_started++;
    const EnvId id = *started;
    Env env;
    env.id = id;
    env.task = task_name;
    env.manifest = std::move(manifest);
    env.since = clock_.now();
    env.long_lived = long_lived;
    env.current = std::move(assigned);
    if (!envs_.emplace(id, std::move(env)).second) std::abort();  // the port reused a live id

    // Events the environment sent from inside start(), now that its id is known.
    for (detail::EarlyEvent& e : early) {
        if (e.env != id) continue;
        switch (e.kind) {
            case detail::EarlyEvent::Kind::ready: on_ready(id); break;
            case detail::EarlyEvent::Kind::result: on_result(id, std::move(e.outcome)); break;
            case detail::EarlyEvent::Kind::exit: on_exit(id, std::move(e.exit)); break;
        }
    }
}

void Scheduler::State::run(EnvId id, Pending pending, bool cold) {
    Env& env = envs_.at(id);
    cancel_timer(env.idle_timer);
    env.phase = Env::Phase::busy;
    env.since = clock_.now();
    env.invocations++;
    (cold ? metrics_.cold_dispatches : metrics_.warm_dispatches)++;
    // Keeps the invocation alive through the port call even if its outcome arrives inside it.
    std::shared_ptr<const Invocation> invocation = pending.invocation;
    env.current = std::move(pending);
    base::Duration backstop = env.manifest->timeout + std::chrono::seconds(2);
    env.backstop_timer = timers_.start(backstop, [this, id] {
        Entry entry(*this);
        on_backstop(id);
    });
    envs_port_.invoke(id, *invocation);
}

void Scheduler::State::become_idle(EnvId id) {
    Env* env = find_env(id);
    if (!env || env->phase == Env::Phase::stopping) return;
    if (shutting_down_ || env->draining || !find_task(env->task)) {
        stop_env(id);
        return;
    }
    env->phase = Env::Phase::idle;
    env->since = clock_.now();
    // A long-lived environment is the task itself, not a cache: it is never reclaimed.
    if (!env->long_lived) {
        env->idle_timer = timers_.start(config_.idle_timeout, [this, id] {
            Entry entry(*this);
            on_idle_timeout(id);
        });
    }
}

void Scheduler::State::stop_env(EnvId id) {
    Env* env = find_env(id);
    if (!env || env->phase == Env::Phase::stopping) return;
    cancel_timer(env->idle_timer);
    cancel_timer(env->backstop_timer);
    env->phase = Env::Phase::stopping;
    env->since = clock_.now();
    envs_port_.stop(id, config_.stop_grace);
}

std::size_t Scheduler::State::serving_envs_of(const std::string& task) const {
    return static_cast<std::size_t>(std::count_if(envs_.begin(), envs_.end(), [&](const auto& e) {
        return e.second.task == task && e.second.phase != Env::Phase::stopping &&
               !e.second.draining;
    }));
}

std::size_t Scheduler::State::all_envs_of(const std::string& task) const {
    return static_cast<std::size_t>(std::count_if(
        envs_.begin(), envs_.end(), [&](const auto& e) { return e.second.task == task; }));
}

}  // namespace gaffer::scheduler
