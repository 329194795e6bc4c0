// Graceful shutdown: stop taking work, let in-flight invocations finish within stop_grace,
// then stop every environment. Queued async invocations stay in the journal on purpose:
// they were promised to run, and they run after the restart.
#include <utility>

#include "coordinator/scheduler/detail/state.hpp"

namespace gaffer::scheduler {

using detail::Env;
using detail::Pending;

void Scheduler::State::shutdown(std::function<void()> done) {
    shutdown_done_.push_back(std::move(done));
    if (shutting_down_) return;
    shutting_down_ = true;

    for (auto& [name, task] : tasks_) cancel_timer(task.restart_timer);
    std::vector<std::string> waiting;
    queue_.for_each_waiting(
        [&](const std::string& task, std::uint64_t) { waiting.push_back(task); });
    for (const std::string& task : waiting) {
        for (Pending& p : queue_.take_all(task)) {
            cancel_or_abandon(std::move(p), "the gateway shut down before the invocation ran");
        }
    }

    std::vector<EnvId> ids;
    for (const auto& [id, env] : envs_) ids.push_back(id);
    for (EnvId id : ids) {
        Env* env = find_env(id);
        if (!env || env->phase == Env::Phase::busy) continue;
        if (env->current) {  // starting, with the invocation it was started for
            Pending p = std::move(*env->current);
            env->current.reset();
            cancel_or_abandon(std::move(p), "the gateway shut down before the invocation ran");
        }
        stop_env(id);
    }

    bool any_busy = false;
    for (const auto& [id, env] : envs_) any_busy = any_busy || env.phase == Env::Phase::busy;
    if (any_busy) {
        grace_timer_ = timers_.start(config_.stop_grace, [this] {
            Entry entry(*this);
            on_grace_over();
        });
    }
}

void Scheduler::State::on_grace_over() {
    grace_timer_.reset();  // it has fired
    std::vector<EnvId> ids;
    for (const auto& [id, env] : envs_) {
        if (env.phase == Env::Phase::busy) ids.push_back(id);
    }
    for (EnvId id : ids) {
        Env* env = find_env(id);
        if (!env || env->phase != Env::Phase::busy) continue;
        if (env->current) {
            Pending p = std::move(*env->current);
            env->current.reset();
            cancel_or_abandon(std::move(p),
                              "the gateway shut down before the invocation finished");
        }
        stop_env(id);
    }
}

void Scheduler::State::end_grace_if_idle() {
    if (!shutting_down_ || !grace_timer_) return;
    for (const auto& [id, env] : envs_) {
        if (env.phase == Env::Phase::busy) return;
    }
    cancel_timer(grace_timer_);
}

}  // namespace gaffer::scheduler
