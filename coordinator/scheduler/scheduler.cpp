// The public facade: every call enters the state through an Entry so that the pump and
// the Done callbacks run once, when the outermost call unwinds (see detail/state.hpp).
#include "coordinator/scheduler/scheduler.hpp"

#include "coordinator/scheduler/detail/state.hpp"

namespace gaffer::scheduler {

std::string_view status_name(Status status) {
    switch (status) {
        case Status::ok: return "ok";
        case Status::function_error: return "function_error";
        case Status::timeout: return "timeout";
        case Status::out_of_memory: return "out_of_memory";
        case Status::crashed: return "crashed";
        case Status::init_error: return "init_error";
        case Status::cancelled: return "cancelled";
    }
    return "unknown";
}

Scheduler::Scheduler(Config config, const base::Clock& clock, Timers& timers, Environments& envs,
                     Journal& journal)
    : state_(std::make_unique<State>(std::move(config), clock, timers, envs, journal, *this)) {}

Scheduler::~Scheduler() = default;

base::Result<void> Scheduler::put_task(manifest::Manifest task) {
    State::Entry entry(*state_);
    return state_->put_task(std::move(task));
}

base::Result<void> Scheduler::remove_task(std::string_view name) {
    State::Entry entry(*state_);
    return state_->remove_task(name);
}

base::Result<void> Scheduler::recover() {
    State::Entry entry(*state_);
    return state_->recover();
}

base::Result<std::string> Scheduler::invoke(std::string_view task, std::string payload,
                                            bool async, Done done) {
    State::Entry entry(*state_);
    return state_->invoke(task, std::move(payload), async, std::move(done));
}

void Scheduler::shutdown(std::function<void()> done) {
    // No member access after the Entry unwinds: the callback may destroy this object.
    State::Entry entry(*state_);
    state_->shutdown(std::move(done));
}

std::vector<TaskStatus> Scheduler::tasks() const { return state_->tasks(); }
std::vector<EnvironmentInfo> Scheduler::environments() const { return state_->environments(); }
const Metrics& Scheduler::metrics() const { return state_->metrics_; }

const manifest::Manifest* Scheduler::find_task(std::string_view name) const {
    const detail::Task* t = state_->find_task(name);
    return t ? t->manifest.get() : nullptr;
}

void Scheduler::on_ready(EnvId env) {
    State::Entry entry(*state_);
    state_->on_ready(env);
}

void Scheduler::on_result(EnvId env, Outcome outcome) {
    State::Entry entry(*state_);
    state_->on_result(env, std::move(outcome));
}

void Scheduler::on_exit(EnvId env, ExitInfo info) {
    State::Entry entry(*state_);
    state_->on_exit(env, std::move(info));
}

}  // namespace gaffer::scheduler
