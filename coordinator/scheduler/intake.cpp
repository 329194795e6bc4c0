// What comes in: task definitions, invocations, and the journal's leftovers at startup.
#include <algorithm>
#include <chrono>
#include <utility>

#include "coordinator/scheduler/detail/state.hpp"

namespace gaffer::scheduler {

using detail::Env;
using detail::Pending;

namespace {

std::string quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

std::string duration_text(base::Duration d) {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
    if (s % 3600 == 0 && s > 0) return std::to_string(s / 3600) + "h";
    if (s % 60 == 0 && s > 0) return std::to_string(s / 60) + "min";
    return std::to_string(s) + "s";
}

const char* const kServiceMessage =
    ": a long-lived `process` task is a service and takes no invocations "
    "(use interface `lambda` for a task that answers invocations)";

}  // namespace

base::Result<void> Scheduler::State::put_task(manifest::Manifest m) {
    if (shutting_down_) {
        return base::fail(base::Errc::unavailable,
                          "put_task " + quoted(m.name) + ": the scheduler is shutting down");
    }
    if (m.name.empty()) return base::fail(base::Errc::invalid, "put_task: the task has no name");
    if (m.max_concurrency == 0) {
        return base::fail(base::Errc::invalid,
                          "put_task " + quoted(m.name) + ": max_concurrency must be at least 1");
    }
    if (m.timeout.count() <= 0) {
        return base::fail(base::Errc::invalid,
                          "put_task " + quoted(m.name) + ": timeout must be positive");
    }
    auto manifest = std::make_shared<const manifest::Manifest>(std::move(m));
    const std::string name = manifest->name;

    detail::Task* task = find_task(name);
    if (!task) {
        detail::RestartBudget budget(config_.restart_backoff_initial, config_.restart_backoff_max,
                                     config_.broken_after_failures, config_.broken_window);
        tasks_.emplace(name, detail::Task{manifest, budget, std::nullopt, next_seq_++});
        return {};
    }

    // Replace: new invocations use the new manifest; old environments drain.
    task->manifest = manifest;
    task->budget.reset();
    cancel_timer(task->restart_timer);
    task->demand_seq = next_seq_++;
    const bool takes_invocations = can_take_invocations(*manifest);
    if (!takes_invocations) {
        fail_all_queued(name, Status::cancelled, "task " + quoted(name) + kServiceMessage);
    }

    std::vector<EnvId> to_stop;
    std::vector<Pending> taken_back;
    for (auto& [id, env] : envs_) {
        if (env.task != name || env.phase == Env::Phase::stopping || env.draining) continue;
        env.draining = true;
        if (env.phase == Env::Phase::idle) to_stop.push_back(id);
        if (env.phase == Env::Phase::starting) {
            // Not running yet: it is served by the new manifest instead.
            if (env.current) taken_back.push_back(std::move(*env.current));
            env.current.reset();
            to_stop.push_back(id);
        }
    }
    std::sort(taken_back.begin(), taken_back.end(),
              [](const Pending& a, const Pending& b) { return a.seq > b.seq; });
    for (Pending& p : taken_back) {
        if (takes_invocations) {
            queue_.push_front(std::move(p));
        } else {
            finish(std::move(p),
                   Outcome{Status::cancelled, {}, "task " + quoted(name) + kServiceMessage});
        }
    }
    for (EnvId id : to_stop) stop_env(id);
    return {};
}

base::Result<void> Scheduler::State::remove_task(std::string_view name) {
    auto it = tasks_.find(name);
    if (it == tasks_.end()) {
        return base::fail(base::Errc::not_found, "remove_task: no task named " + quoted(name));
    }
    const std::string key(name);
    cancel_timer(it->second.restart_timer);
    tasks_.erase(it);

    const std::string why = "task " + quoted(key) + " was removed";
    fail_all_queued(key, Status::cancelled, why);
    std::vector<EnvId> ids;
    for (const auto& [id, env] : envs_) {
        if (env.task == key && env.phase != Env::Phase::stopping) ids.push_back(id);
    }
    for (EnvId id : ids) {
        Env* env = find_env(id);
        if (!env || env->phase == Env::Phase::stopping) continue;
        if (env->current) {
            Pending p = std::move(*env->current);
            env->current.reset();
            cancel_timer(env->backstop_timer);
            finish(std::move(p), Outcome{Status::cancelled, {}, why});
        }
        stop_env(id);
    }
    return {};
}

base::Result<void> Scheduler::State::recover() {
    if (recovered_) {
        return base::fail(base::Errc::conflict, "recover: the journal was recovered already");
    }
    auto pending = journal_.pending();
    if (!pending) {
        return base::fail(pending.error().code, "recover: journal: " + pending.error().message);
    }
    recovered_ = true;
    for (Invocation& inv : *pending) {
        inv.async = true;  // only async invocations are journaled
        Pending p{std::make_shared<const Invocation>(std::move(inv)), {}, clock_.now(),
                  next_seq_++, false};
        const detail::Task* task = find_task(p.invocation->task);
        if (!task) {
            finish(std::move(p), Outcome{Status::cancelled, {}, "task no longer defined"});
        } else if (!can_take_invocations(*task->manifest)) {
            finish(std::move(p), Outcome{Status::cancelled, {},
                                         "task " + quoted(task->manifest->name) + kServiceMessage});
        } else if (task->budget.broken()) {
            finish(std::move(p), Outcome{Status::init_error, {},
                                         "task " + quoted(task->manifest->name) + " is broken"});
        } else {
            queue_.push(std::move(p));  // accepted before the restart: no queue_limit
        }
    }
    return {};
}

base::Result<std::string> Scheduler::State::invoke(std::string_view task_name, std::string payload,
                                                   bool async, Done done) {
    const std::string where = "invoke " + quoted(task_name);
    if (shutting_down_) {
        return base::fail(base::Errc::unavailable, where + ": the scheduler is shutting down");
    }
    const detail::Task* task = find_task(task_name);
    if (!task) return base::fail(base::Errc::not_found, where + ": no such task");
    if (!can_take_invocations(*task->manifest)) {
        return base::fail(base::Errc::invalid, where + kServiceMessage);
    }
    if (task->budget.broken()) {
        return base::fail(base::Errc::unavailable,
                          where + ": the task is broken (it failed " +
                              std::to_string(config_.broken_after_failures) + " times within " +
                              duration_text(config_.broken_window) +
                              "); deploy it again to reset it");
    }
    if (queue_.full()) {
        metrics_.rejected_busy++;
        return base::fail(base::Errc::busy,
                          where + ": the invocation queue is full (queue_limit = " +
                              std::to_string(queue_.limit()) +
                              " invocations across all tasks); retry later");
    }
    auto inv = std::make_shared<const Invocation>(
        Invocation{new_id(), std::string(task_name), std::move(payload), async});
    if (async) {
        // Durable before the caller hears "accepted"; on failure nothing is queued.
        auto accepted = journal_.accept(*inv);
        if (!accepted) {
            return base::fail(accepted.error().code,
                              where + ": journal accept failed: " + accepted.error().message);
        }
    }
    std::string id = inv->id;
    queue_.push(Pending{std::move(inv), std::move(done), clock_.now(), next_seq_++, true});
    return id;
}

}  // namespace gaffer::scheduler
