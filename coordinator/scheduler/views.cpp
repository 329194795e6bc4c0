// Read-only views for the local API and the CLI.
#include "coordinator/scheduler/detail/state.hpp"

namespace gaffer::scheduler {

using detail::Env;

namespace {

const char* phase_name(Env::Phase phase) {
    switch (phase) {
        case Env::Phase::starting: return "starting";
        case Env::Phase::idle: return "idle";
        case Env::Phase::busy: return "busy";
        case Env::Phase::stopping: return "stopping";
    }
    return "unknown";
}

}  // namespace

std::vector<TaskStatus> Scheduler::State::tasks() const {
    std::vector<TaskStatus> out;
    const base::TimePoint now = clock_.now();
    for (const auto& [name, task] : tasks_) {
        TaskStatus s;
        s.name = name;
        s.owner = task.manifest->owner;
        s.queued = queue_.size(name);
        bool serving = false;
        for (const auto& [id, env] : envs_) {
            if (env.task != name || env.phase == Env::Phase::stopping) continue;
            s.environments++;
            if (env.phase == Env::Phase::busy) s.running++;
            if (env.phase == Env::Phase::starting && env.current) s.queued++;
            if (env.manifest == task.manifest &&
                (env.phase == Env::Phase::idle || env.phase == Env::Phase::busy)) {
                serving = true;
            }
        }
        if (task.manifest->mode == manifest::Mode::long_lived) {
            if (task.budget.broken()) {
                s.state = "broken";
            } else if (task.restart_timer) {
                s.state = "backoff";
            } else {
                s.state = serving ? "running" : "starting";
            }
        } else {
            s.state = "ready";
        }
        s.recent_failures = task.budget.recent_failures(now);
        out.push_back(std::move(s));
    }
    return out;
}

std::vector<EnvironmentInfo> Scheduler::State::environments() const {
    std::vector<EnvironmentInfo> out;
    for (const auto& [id, env] : envs_) {
        out.push_back(EnvironmentInfo{id, env.task, phase_name(env.phase), env.since,
                                      env.invocations});
    }
    return out;
}

}  // namespace gaffer::scheduler
