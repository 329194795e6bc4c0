#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>

#include "coordinator/api/api.hpp"
#include "coordinator/daemon/backend.hpp"
#include "coordinator/daemon/daemon.hpp"
#include "coordinator/daemon/devices.hpp"
#include "coordinator/daemon/loop_timers.hpp"
#include "coordinator/loop/loop.hpp"
#include "coordinator/scheduler/scheduler.hpp"
#include "coordinator/store/store.hpp"
#include "tasks/environment/environment.hpp"

namespace gaffer::daemon {

namespace {

// mkdir -p with `mode` for the directories it creates.
base::Result<void> make_dirs(const std::string& path, mode_t mode) {
    std::string partial;
    for (std::size_t i = 1; i <= path.size(); ++i) {
        if (i != path.size() && path[i] != '/') continue;
        partial = path.substr(0, i);
        if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST)
            return base::fail_errno(base::Errc::io, "mkdir " + partial, errno);
    }
    return {};
}

std::string parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

scheduler::Config scheduler_config(const config::Config& c) {
    scheduler::Config s;
    s.queue_limit = c.scheduler.queue_limit;
    s.max_environments = c.scheduler.max_environments;
    s.idle_timeout = c.scheduler.idle_timeout;
    s.restart_backoff_initial = c.scheduler.restart_backoff_initial;
    s.restart_backoff_max = c.scheduler.restart_backoff_max;
    s.broken_after_failures = c.scheduler.broken_after_failures;
    s.broken_window = c.scheduler.broken_window;
    s.stop_grace = c.scheduler.stop_grace;
    return s;
}

api::ServerOptions api_options(const config::Config& c) {
    api::ServerOptions o;
    o.socket_path = c.api.socket;
    o.socket_mode = static_cast<int>(c.api.socket_mode);
    if (!c.api.socket_group.empty()) {
        if (struct group* g = ::getgrnam(c.api.socket_group.c_str()))
            o.socket_group = g->gr_gid;
        else
            base::log_warning("api.socket_group \"" + c.api.socket_group +
                              "\" does not exist: only root may use the API socket");
    }
    o.max_connections = c.api.max_connections;
    o.limits.max_body_bytes = c.api.max_request_bytes;
    return o;
}

environment::EnvironmentSettings environment_settings(const config::Config& c) {
    environment::EnvironmentSettings e;
    e.init_path = c.environments.init_path;
    e.cgroup_parent = c.environments.cgroup_parent;
    e.log_dir = c.environments.log_dir;
    e.log_max_bytes = c.environments.log_max_bytes;
    e.log_keep = c.environments.log_keep;
    e.state_dir = c.daemon.state_dir;
    e.allow_root_tasks = c.daemon.allow_root_tasks;
    e.default_user = c.daemon.default_user;
    e.runtime_api_port = c.environments.runtime_api_port;
    e.favor_dynamic_cgroups = c.environments.favor_dynamic_cgroups;
    e.init_pool_size = c.environments.init_pool_size;
    e.on_log = [](scheduler::EnvId env, std::string_view level, std::string_view line) {
        base::log(base::parse_log_level(level, base::LogLevel::info),
                  "environment " + std::to_string(env) + ": " + std::string(line));
    };
    return e;
}

int fail_start(const std::string& what, const base::Error& error) {
    base::log_error(what + ": " + error.message);
    notify_service_manager("STATUS=failed to start: " + error.message);
    return 1;
}

}  // namespace

int run(const config::Config& config) {
    base::set_log_level(config.daemon.log_level);
    std::signal(SIGPIPE, SIG_IGN);

    for (auto [dir, mode] : {std::pair{config.daemon.state_dir, 0700}, {config.environments.log_dir, 0750},
                             {parent_of(config.api.socket), 0755}}) {
        if (auto made = make_dirs(dir, static_cast<mode_t>(mode)); !made) return fail_start("cannot create " + dir, made.error());
    }
    auto database = store::Database::open(config.daemon.state_dir);
    if (!database) return fail_start("cannot open the state database", database.error());
    store::SqliteJournal journal(*database, config.scheduler.async_result_retention);

    loop::Loop loop;
    base::SteadyClock clock;
    LoopTimers timers(loop);
    // Tasks reach the device side through their gaffer-init; it exists only once the
    // scheduler does, hence the late binding.
    Devices* device_side = nullptr;
    auto settings = environment_settings(config);
    settings.on_service_request = [&device_side](const environment::ServiceCall& call,
                                                 environment::ServiceReply reply) {
        if (device_side) return device_side->serve(call, std::move(reply));
        reply(503, R"({"error":"unavailable","message":"devices are not enabled on this gateway: configure [broker] in gaffer.toml"})");
    };
    auto environments = environment::EnvironmentManager::open(loop, std::move(settings));
    if (!environments) return fail_start("cannot set up execution environments", environments.error());
    scheduler::Scheduler scheduler(scheduler_config(config), clock, timers, **environments, journal);
    DaemonBackend backend(config, scheduler, *database, journal, clock);
    backend.restore_tasks();
    if (auto recovered = scheduler.recover(); !recovered)
        return fail_start("cannot recover queued invocations", recovered.error());

    auto devices = Devices::start(loop, config, *database, scheduler, clock);
    if (!devices) return fail_start("cannot start the device side", devices.error());
    auto options = api_options(config);
    if (*devices) {
        device_side = devices->get();
        options.devices = &(*devices)->backend();
    }
    auto server = api::Server::start(loop, backend, std::move(options));
    if (!server) return fail_start("cannot listen on " + config.api.socket, server.error());

    bool stopping = false;
    auto stop = [&] {
        if (stopping) return;
        stopping = true;
        base::log_info("shutting down");
        notify_service_manager("STOPPING=1\nSTATUS=stopping environments");
        backend.set_shutting_down();
        scheduler.shutdown([&] {
            server->reset();  // in-flight API answers went out with the outcomes above
            if (!*devices) return loop.stop();
            (*devices)->stop([&] { loop.stop(); });
        });
    };
    loop::SignalWatch on_term(loop, SIGTERM, stop);
    loop::SignalWatch on_int(loop, SIGINT, stop);

    // systemd's watchdog: ping at half the interval it asked for.
    loop::Timer watchdog(loop);
    if (const char* usec = std::getenv("WATCHDOG_USEC")) {
        auto interval = std::chrono::microseconds(std::strtoull(usec, nullptr, 10)) / 2;
        if (interval.count() > 0)
            watchdog.start(interval, [] { notify_service_manager("WATCHDOG=1"); }, interval);
    }

    base::log_info("gafferd ready: " + std::to_string(scheduler.tasks().size()) + " tasks, API on " +
                   config.api.socket);
    notify_service_manager("READY=1\nSTATUS=serving " + std::to_string(scheduler.tasks().size()) + " tasks");
    loop.run();
    base::log_info("gafferd stopped");
    return 0;
}

}  // namespace gaffer::daemon
