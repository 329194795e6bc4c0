#include "tasks/environment/detail/launch.hpp"

namespace gaffer::environment::detail {

CgroupLimits limits_of(const manifest::Manifest& task) {
    return CgroupLimits{task.limits.memory_bytes, task.limits.cpu_millis, task.limits.pids};
}

runtime::LaunchSpec make_launch_spec(const manifest::Manifest& task, const Identity& identity,
                                     const EnvironmentSettings& settings,
                                     const std::vector<std::string>& cgroup_procs) {
    runtime::LaunchSpec spec;
    spec.task = task.name;
    spec.command = task.command;
    for (const auto& [key, value] : task.environment) spec.environment.emplace_back(key, value);
    spec.working_dir = task.working_dir;
    spec.interface = task.interface == manifest::Interface::lambda ? "lambda" : "process";
    spec.mode = task.mode == manifest::Mode::on_demand ? "on-demand" : "long-lived";
    spec.handler = task.handler;
    spec.timeout_ms = static_cast<std::uint32_t>(task.timeout.count());
    spec.uid = identity.uid;
    spec.gid = identity.gid;
    spec.network = task.network == manifest::Network::host ? "host" : "none";
    spec.hostname = task.name;
    spec.cgroup_procs = cgroup_procs;
    spec.artifact_dir = task.artifact_dir;
    for (const auto& r : task.resources)
        spec.resources.push_back({r.source, r.target.empty() ? r.source : r.target, r.writable,
                                  r.kind == manifest::LocalResource::Kind::device});
    // A task must not read the daemon's state, other tasks' logs or other tasks' code.
    for (const auto* path : {&settings.state_dir, &settings.log_dir, &settings.tasks_root})
        if (!path->empty()) spec.hidden_paths.push_back(*path);
    spec.log_path = settings.log_dir + "/" + task.name + ".log";
    spec.log_max_bytes = settings.log_max_bytes;
    spec.log_keep = settings.log_keep;
    // On the host network a fixed port would collide between environments.
    spec.runtime_api_port = task.network == manifest::Network::host ? 0 : settings.runtime_api_port;
    spec.version = task.version;
    spec.memory_bytes = task.limits.memory_bytes;
    return spec;
}

}  // namespace gaffer::environment::detail
