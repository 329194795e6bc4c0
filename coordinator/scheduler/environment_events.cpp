// What environments and timers tell us: ready, result, exit, backstop, idle reclaim, and
// the restart of long-lived tasks.
#include <chrono>
#include <utility>

#include "coordinator/scheduler/detail/state.hpp"

namespace gaffer::scheduler {

using detail::Env;
using detail::Pending;

namespace {

bool leaves_env_suspect(Status status) {
    return status == Status::timeout || status == Status::out_of_memory ||
           status == Status::crashed;
}

std::string describe(const ExitInfo& info) {
    std::string text;
    switch (info.reason) {
        case ExitInfo::Reason::stopped: text = "the environment was stopped"; break;
        case ExitInfo::Reason::exited:
            text = "the task process exited with code " + std::to_string(info.code);
            break;
        case ExitInfo::Reason::crashed:
            text = "the task process was killed by signal " + std::to_string(info.code);
            break;
        case ExitInfo::Reason::out_of_memory:
            text = "the environment hit its memory limit and was killed";
            break;
        case ExitInfo::Reason::init_error: text = "the environment failed to initialise"; break;
    }
    if (!info.detail.empty()) text += ": " + info.detail;
    return text;
}

std::string seconds_text(base::Duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) +
           " ms";
}

}  // namespace

void Scheduler::State::on_ready(EnvId id) {
    if (in_start_ && !envs_.count(id)) {
        detail::EarlyEvent early;
        early.env = id;
        early_events_.push_back(std::move(early));
        return;
    }
    Env* env = find_env(id);
    if (!env || env->phase != Env::Phase::starting) return;
    env->was_ready = true;
    env->ready_at = clock_.now();
    if (env->current) {
        Pending assigned = std::move(*env->current);
        env->current.reset();
        run(id, std::move(assigned), /*cold=*/true);
        return;
    }
    become_idle(id);
}

void Scheduler::State::on_result(EnvId id, Outcome outcome) {
    if (in_start_ && !envs_.count(id)) {
        detail::EarlyEvent early;
        early.kind = detail::EarlyEvent::Kind::result;
        early.env = id;
        early.outcome = std::move(outcome);
        early_events_.push_back(std::move(early));
        return;
    }
    Env* env = find_env(id);
    // A result after the backstop, a removal or a shutdown cut-off has nobody to go to.
    if (!env || env->phase != Env::Phase::busy || !env->current) return;
    cancel_timer(env->backstop_timer);
    Pending pending = std::move(*env->current);
    env->current.reset();
    // Its state is suspect after these: a fresh environment serves the next invocation.
    const bool suspect = leaves_env_suspect(outcome.status);
    finish(std::move(pending), std::move(outcome));
    if (suspect) {
        stop_env(id);
    } else {
        become_idle(id);
    }
}

void Scheduler::State::on_exit(EnvId id, ExitInfo info) {
    if (in_start_ && !envs_.count(id)) {
        detail::EarlyEvent early;
        early.kind = detail::EarlyEvent::Kind::exit;
        early.env = id;
        early.exit = std::move(info);
        early_events_.push_back(std::move(early));
        return;
    }
    auto it = envs_.find(id);
    if (it == envs_.end()) return;
    Env env = std::move(it->second);
    envs_.erase(it);
    cancel_timer(env.idle_timer);
    cancel_timer(env.backstop_timer);

    const bool ours = env.phase == Env::Phase::stopping;
    if (!env.was_ready && !ours) metrics_.environments_failed++;
    if (env.current) {
        Outcome outcome;
        if (!env.was_ready) {
            outcome = {Status::init_error, {},
                       "the environment exited before it was ready: " + describe(info)};
        } else if (info.reason == ExitInfo::Reason::out_of_memory) {
            outcome = {Status::out_of_memory, {},
                       describe(info) + " (limit " +
                           std::to_string(env.manifest->limits.memory_bytes) + " bytes)"};
        } else {
            outcome = {Status::crashed, {}, describe(info) + " without answering"};
        }
        finish(std::move(*env.current), std::move(outcome));
    }

    detail::Task* task = find_task(env.task);
    if (!task || !env.long_lived || env.manifest != task->manifest) return;
    if (ours) {
        // We stopped it (suspect state, timeout): the task still wants an environment.
        task->demand_seq = next_seq_++;
        return;
    }
    if (env.was_ready && clock_.now() - env.ready_at >= config_.stable_run) {
        task->budget.record_stable_run();
    }
    long_lived_failed(env.task);
}

void Scheduler::State::long_lived_failed(const std::string& name) {
    detail::Task* task = find_task(name);
    if (!task || shutting_down_) return;
    std::optional<base::Duration> delay = task->budget.record_failure(clock_.now());
    if (!delay) {
        fail_all_queued(name, Status::init_error,
                        "task '" + name + "' is broken: it failed " +
                            std::to_string(config_.broken_after_failures) +
                            " times within the broken window; deploy it again to reset it");
        return;
    }
    task->restart_timer = timers_.start(*delay, [this, name] {
        Entry entry(*this);
        on_restart_due(name);
    });
}

void Scheduler::State::on_restart_due(const std::string& name) {
    detail::Task* task = find_task(name);
    if (!task) return;
    task->restart_timer.reset();
    task->demand_seq = next_seq_++;
}

void Scheduler::State::on_backstop(EnvId id) {
    Env* env = find_env(id);
    if (!env) return;
    env->backstop_timer.reset();  // it has fired
    if (env->phase != Env::Phase::busy || !env->current) return;
    Pending pending = std::move(*env->current);
    env->current.reset();
    std::string detail = "no result within the task's timeout of " +
                         seconds_text(env->manifest->timeout) +
                         " (+2 s grace); the environment was stopped";
    finish(std::move(pending), Outcome{Status::timeout, {}, std::move(detail)});
    stop_env(id);
}

void Scheduler::State::on_idle_timeout(EnvId id) {
    Env* env = find_env(id);
    if (!env) return;
    env->idle_timer.reset();  // it has fired
    if (env->phase == Env::Phase::idle) stop_env(id);
}

}  // namespace gaffer::scheduler
