// Ending invocations: metrics, the journal, and the deferred Done callbacks. Also the
// State's construction and small lookups.
#include <chrono>
#include <cstdio>
#include <utility>

#include "coordinator/scheduler/detail/state.hpp"

namespace gaffer::scheduler {

using detail::Pending;

Scheduler::State::State(Config config, const base::Clock& clock, Timers& timers,
                        Environments& envs, Journal& journal, EnvironmentEvents& self)
    : config_(std::move(config)), clock_(clock), timers_(timers), envs_port_(envs),
      journal_(journal), self_(self), queue_(config_.queue_limit), rng_(std::random_device{}()) {}

Scheduler::State::~State() {
    // Timer callbacks capture `this`: none may fire after we are gone.
    for (auto& [id, env] : envs_) {
        cancel_timer(env.idle_timer);
        cancel_timer(env.backstop_timer);
    }
    for (auto& [name, task] : tasks_) cancel_timer(task.restart_timer);
    cancel_timer(grace_timer_);
}

void Scheduler::State::finish(Pending pending, Outcome outcome) {
    metrics_.invocations_by_status[std::string(status_name(outcome.status))]++;
    if (pending.measured) {
        double seconds = std::chrono::duration<double>(clock_.now() - pending.accepted).count();
        if (seconds < 0) seconds = 0;
        std::size_t bucket = 0;
        while (bucket < std::size(Metrics::kBuckets) && seconds > Metrics::kBuckets[bucket]) {
            ++bucket;
        }
        metrics_.latency_counts[bucket]++;
        metrics_.latency_sum += seconds;
        metrics_.latency_count++;
    }
    if (pending.invocation->async) {
        // A failed finish leaves the entry pending: it runs again after a restart, which
        // is the at-least-once promise of async invocations. Count it for /metrics.
        if (!journal_.finish(pending.invocation->id, outcome)) metrics_.journal_errors++;
    }
    if (pending.done) completions_.push_back({std::move(pending.done), std::move(outcome)});
}

void Scheduler::State::cancel_or_abandon(Pending pending, std::string detail) {
    // Shutdown rule: a sync caller is waiting and must hear something; an async entry stays
    // pending in the journal and runs after the restart, so it is not finished here.
    if (pending.invocation->async) return;
    finish(std::move(pending), Outcome{Status::cancelled, {}, std::move(detail)});
}

void Scheduler::State::fail_all_queued(const std::string& task, Status status,
                                       const std::string& detail) {
    for (Pending& p : queue_.take_all(task)) finish(std::move(p), Outcome{status, {}, detail});
}

void Scheduler::State::cancel_timer(std::optional<Timers::Id>& timer) {
    if (timer) timers_.cancel(*timer);
    timer.reset();
}

std::string Scheduler::State::new_id() {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng_()));
    return buf;
}

detail::Env* Scheduler::State::find_env(EnvId id) {
    auto it = envs_.find(id);
    return it == envs_.end() ? nullptr : &it->second;
}

detail::Task* Scheduler::State::find_task(std::string_view name) {
    auto it = tasks_.find(name);
    return it == tasks_.end() ? nullptr : &it->second;
}

const detail::Task* Scheduler::State::find_task(std::string_view name) const {
    auto it = tasks_.find(name);
    return it == tasks_.end() ? nullptr : &it->second;
}

bool Scheduler::State::can_take_invocations(const manifest::Manifest& m) const {
    return !(m.mode == manifest::Mode::long_lived && m.interface == manifest::Interface::process);
}

}  // namespace gaffer::scheduler
