#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "coordinator/loop/loop.hpp"
#include "tasks/environment/detail/cgroup_files.hpp"
#include "tasks/environment/detail/exit_report.hpp"
#include "tasks/environment/detail/init_pool.hpp"
#include "tasks/environment/detail/launch.hpp"

namespace gaffer::environment {

using scheduler::EnvId;
using Json = nlohmann::json;

namespace {

constexpr auto kStopMargin = std::chrono::seconds(1);

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

struct EnvironmentManager::Env {
    EnvId id = 0;
    std::string task;
    std::uint32_t timeout_ms = 0;
    scheduler::EnvironmentEvents* events = nullptr;  // null: start() failed, report nothing
    std::optional<Cgroup> cgroup;
    std::unique_ptr<loop::Process> process;
    std::unique_ptr<loop::Stream> stream;
    std::unique_ptr<loop::Timer> linger;  // the other half of the exit, or a stop deadline
    runtime::Decoder decoder;
    detail::ExitFacts facts;
    bool process_done = false;
    bool stream_done = false;
    bool linger_expired = false;
};

base::Result<std::unique_ptr<EnvironmentManager>> EnvironmentManager::open(loop::Loop& loop,
                                                                           EnvironmentSettings settings) {
    std::string favor_log, favor_warning;
    if (settings.favor_dynamic_cgroups) {
        auto mountinfo = base::read_file("/proc/self/mountinfo");
        if (!mountinfo) return tl::unexpected(mountinfo.error());
        auto done = detail::set_favordynmods(*mountinfo);
        if (done)
            favor_log = *done;
        else
            favor_warning = done.error().message;
    }
    auto layout = detect_layout();
    if (!layout) return tl::unexpected(layout.error());
    auto tree = CgroupTree::open(*layout, {settings.cgroup_parent, settings.use_libcgroup});
    if (!tree) return tl::unexpected(tree.error());
    auto stale = tree->cleanup_stale();
    if (!stale) return tl::unexpected(stale.error());
    if (!settings.log_dir.empty() && ::mkdir(settings.log_dir.c_str(), 0750) != 0 && errno != EEXIST)
        return base::fail_errno(base::Errc::io, "cannot create the task log directory " + settings.log_dir, errno);
    auto manager = std::make_unique<EnvironmentManager>(loop, std::move(settings), std::move(*tree));
    manager->stale_removed_ = *stale;
    if (!favor_log.empty()) manager->log(0, "info", favor_log);
    if (!favor_warning.empty()) manager->log(0, "warning", favor_warning);
    return manager;
}

EnvironmentManager::EnvironmentManager(loop::Loop& loop, EnvironmentSettings settings, CgroupTree tree)
    : loop_(loop), settings_(std::move(settings)), tree_(std::move(tree)) {
    pool_ = std::make_unique<detail::WarmPool>(loop_, tree_, [this] { return next_id_++; }, settings_.init_path,
                                               settings_.init_pool_size,
                                               [this](std::string_view line) { log(0, "warning", line); });
}

EnvironmentManager::~EnvironmentManager() {
    for (auto& [id, env] : envs_) {
        if (env->process && !env->process_done) (void)env->process->kill(SIGKILL);
        if (env->cgroup)
            if (auto ok = env->cgroup->remove(); !ok) log(id, "warning", ok.error().message);
    }
    pool_.reset();
    tree_.remove_created_dirs();
}

std::size_t EnvironmentManager::init_pool_waiting() const { return pool_->waiting(); }

void EnvironmentManager::log(EnvId id, std::string_view level, std::string_view line) const {
    if (settings_.on_log) settings_.on_log(id, level, line);
}

base::Result<EnvId> EnvironmentManager::start(const manifest::Manifest& task,
                                              scheduler::EnvironmentEvents& events) {
    auto identity = detail::resolve_identity(task, settings_.default_user, settings_.allow_root_tasks);
    if (!identity) return tl::unexpected(identity.error());

    // A gaffer-init from the warm pool, waiting in its cgroup, or one started now: it waits
    // for the launch frame.
    auto init = pool_->take();
    if (!init) {
        auto e = init.error();
        e.message = "task " + task.name + ": " + e.message;
        return tl::unexpected(std::move(e));
    }
    const bool pooled = init->cgroup.has_value();
    const EnvId id = pooled ? init->env_id : next_id_++;
    auto env = std::make_unique<Env>();
    env->id = id;
    env->task = task.name;
    env->cgroup = std::move(init->cgroup);
    env->linger = std::make_unique<loop::Timer>(loop_);
    init->exit_route->fn = [this, id](std::int64_t status, int signal) {
        auto it = envs_.find(id);
        if (it == envs_.end()) return;
        it->second->process_done = true;
        it->second->facts.exit_status = status;
        it->second->facts.term_signal = signal;
        maybe_finish(id);
    };
    env->process = std::move(init->process);
    env->stream = std::move(init->stream);
    auto fail_start = [&](base::Error error) -> base::Result<EnvId> {
        // Keep the record until libuv has reaped gaffer-init (finish() removes the cgroup);
        // it reports nothing.
        (void)env->process->kill(SIGKILL);
        env->stream.reset();
        env->stream_done = true;
        envs_.emplace(id, std::move(env));
        return tl::unexpected(std::move(error));
    };

    const CgroupLimits limits = detail::limits_of(task);
    if (pooled) {
        if (auto ok = env->cgroup->set_limits(limits); !ok) return fail_start(ok.error());
    } else {
        auto group = tree_.create(detail::cgroup_name(id), limits);
        if (!group) return fail_start(group.error());
        env->cgroup = std::move(*group);
    }
    // A pooled gaffer-init is in its cgroup already; one started now moves there first.
    const auto spec = detail::make_launch_spec(task, *identity, settings_,
                                               pooled ? std::vector<std::string>{} : env->cgroup->procs_files());
    env->timeout_ms = spec.timeout_ms;

    std::string launch;
    runtime::encode(runtime::Frame{runtime::FrameType::launch, runtime::to_json(spec), {}}, launch);
    if (!env->stream->write(std::move(launch)))
        return fail_start(base::Error{base::Errc::io, "cannot send the launch frame to gaffer-init"});

    env->events = &events;
    Env& ref = *env;
    envs_.emplace(id, std::move(env));
    ref.stream->start([this, &ref](std::string_view bytes) { on_frame(ref, bytes); },
                      [this, id](base::Error reason) {
                          auto it = envs_.find(id);
                          if (it == envs_.end()) return;
                          it->second->stream_done = true;
                          it->second->stream.reset();  // invoke() now knows the channel is gone
                          if (reason.code != base::Errc::unavailable)
                              log(id, "warning", "control channel: " + reason.message);
                          maybe_finish(id);
                      });
    return id;
}

void EnvironmentManager::on_frame(Env& env, std::string_view bytes) {
    const EnvId id = env.id;
    if (auto fed = env.decoder.feed(bytes); !fed) {
        // A broken channel cannot be resynchronised: end the environment.
        log(id, "error", fed.error().message);
        env.facts.protocol_error = fed.error().message;
        env.stream.reset();  // inside its own callback: allowed by loop::Stream
        env.stream_done = true;
        if (env.process && !env.process_done) (void)env.process->kill(SIGKILL);
        if (env.cgroup) (void)env.cgroup->kill();
        maybe_finish(id);
        return;
    }
    while (true) {
        // The events may call back into us; look the environment up again each time.
        auto it = envs_.find(id);
        if (it == envs_.end() || !it->second->stream) return;
        auto frame = it->second->decoder.next();
        if (!frame) return;
        handle(*it->second, static_cast<int>(frame->type), std::move(frame->header),
               std::move(frame->payload));
    }
}

void EnvironmentManager::handle(Env& env, int type, std::string header, std::string payload) {
    Json h = Json::parse(header, nullptr, false);
    if (!h.is_object()) h = Json::object();
    auto text = [&](const char* key) {
        auto it = h.find(key);
        return it != h.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auto number = [&](const char* key) {
        auto it = h.find(key);
        return it != h.end() && it->is_number_integer() ? it->get<int>() : 0;
    };
    switch (static_cast<runtime::FrameType>(type)) {
        case runtime::FrameType::ready:
            if (env.facts.ready) return;  // idle again is implied by each result
            env.facts.ready = true;
            env.events->on_ready(env.id);
            return;
        case runtime::FrameType::result: {
            const std::uint64_t ooms = env.cgroup->oom_kills();
            auto outcome = detail::outcome_of(text("status"), text("detail"), std::move(payload),
                                              ooms > env.facts.oom_kills_reported,
                                              env.cgroup->limits().memory_bytes);
            env.facts.oom_kills_reported = ooms;
            env.events->on_result(env.id, std::move(outcome));
            return;
        }
        case runtime::FrameType::init_error:
            env.facts.init_error = text("detail").empty() ? payload : text("detail");
            if (env.facts.init_error.empty()) env.facts.init_error = "the task failed to initialise";
            return;
        case runtime::FrameType::exited:
            env.facts.exited = detail::ExitFrame{text("reason"), number("code"), number("signal"), text("detail")};
            // gaffer-init's last word: the outcome is known now. Its exit (the namespaces'
            // teardown) and the cgroup's removal follow off the caller's path (finish()).
            report_exit(env);
            return;
        case runtime::FrameType::service_request:
            serve(env, header, std::move(payload));
            return;
        case runtime::FrameType::log: {
            std::string level = text("level");
            log(env.id, level.empty() ? "info" : level, payload);
            return;
        }
        default:
            log(env.id, "warning", "unexpected frame type " + std::to_string(type) + " from gaffer-init");
    }
}

void EnvironmentManager::serve(Env& env, const std::string& header, std::string payload) {
    auto request = runtime::parse_service_request(header);
    if (!request) {
        // gaffer-init checks requests before relaying them, so this is a bug on its side;
        // answer anyway so the task is not left waiting for the timeout.
        log(env.id, "error", "control channel: " + request.error().message);
        Json h = Json::parse(header, nullptr, false);
        if (h.is_object() && h.contains("id") && h["id"].is_number_unsigned())
            reply(env, h["id"].get<std::uint64_t>(), 500,
                  runtime::service_error_document("invalid", request.error().message));
        return;
    }
    const std::uint64_t request_id = request->id;
    if (!settings_.on_service_request) {
        reply(env, request_id, 503,
              runtime::service_error_document("unavailable", "devices are not enabled on this gateway"));
        return;
    }
    ServiceCall call{env.id, env.task, std::move(*request), std::move(payload)};
    std::weak_ptr<const bool> alive = alive_;
    settings_.on_service_request(call, [this, alive, id = env.id, request_id](int status, std::string body) {
        if (alive.expired()) return;
        auto it = envs_.find(id);
        if (it != envs_.end()) reply(*it->second, request_id, status, std::move(body));
    });
}

void EnvironmentManager::reply(Env& env, std::uint64_t request_id, int status, std::string body) {
    if (!env.stream) return;  // the channel is gone
    if (status < 200 || status > 599) {
        body = runtime::service_error_document("io", "gafferd answered with status " + std::to_string(status));
        status = 500;
    } else if (body.size() > runtime::kMaxServiceBody) {
        body = runtime::service_error_document("io", "gafferd's answer of " + std::to_string(body.size()) +
                                                         " bytes exceeds the limit of " +
                                                         std::to_string(runtime::kMaxServiceBody) + " bytes");
        status = 500;
    }
    std::string bytes;
    runtime::encode(runtime::Frame{runtime::FrameType::service_reply,
                                   runtime::to_json(runtime::ServiceReply{request_id, status}), std::move(body)},
                    bytes);
    env.stream->write(std::move(bytes));
}

void EnvironmentManager::invoke(EnvId id, const scheduler::Invocation& invocation) {
    auto it = envs_.find(id);
    if (it == envs_.end() || !it->second->events) return;
    Env& env = *it->second;
    if (invocation.payload.size() > runtime::kMaxResponseBytes) {
        // Answer from the loop, not from inside the scheduler's invoke() call.
        loop_.post([events = env.events, id, size = invocation.payload.size()] {
            events->on_result(id, scheduler::Outcome{scheduler::Status::function_error, {},
                                                     "the event of " + std::to_string(size) +
                                                         " bytes exceeds the 6 MB limit"});
        });
        return;
    }
    if (!env.stream) return;  // the channel is gone; on_exit follows
    Json h{{"id", invocation.id}, {"deadline_ms", base::wall_epoch_millis() + env.timeout_ms}};
    std::string bytes;
    runtime::encode(runtime::Frame{runtime::FrameType::invoke, dump(h), invocation.payload}, bytes);
    env.stream->write(std::move(bytes));
}

void EnvironmentManager::stop(EnvId id, base::Duration grace) {
    auto it = envs_.find(id);
    if (it == envs_.end()) return;
    Env& env = *it->second;
    env.facts.stop_requested = true;
    const auto grace_ms = std::chrono::duration_cast<std::chrono::milliseconds>(grace).count();
    if (env.stream) {
        std::string bytes;
        runtime::encode(runtime::Frame{runtime::FrameType::shutdown,
                                       dump(Json{{"grace_ms", grace_ms < 0 ? 0 : grace_ms}}), {}},
                        bytes);
        env.stream->write(std::move(bytes));
    }
    // Once half of the exit has happened the linger timer is already running.
    if (env.process_done || env.stream_done) return;
    env.linger->start(grace + kStopMargin, [this, id] {
        auto found = envs_.find(id);
        if (found == envs_.end()) return;
        Env& e = *found->second;
        log(id, "warning", "environment did not stop within its grace period; killing it");
        if (!e.process_done) (void)e.process->kill(SIGKILL);
        if (e.cgroup) (void)e.cgroup->kill();
    });
}

void EnvironmentManager::maybe_finish(EnvId id) {
    auto it = envs_.find(id);
    if (it == envs_.end()) return;
    Env& env = *it->second;
    if (env.process_done && (env.stream_done || env.linger_expired)) {
        finish(id);
        return;
    }
    if (env.process_done == env.stream_done) return;
    // One half of the exit happened: give the other a moment, then force it.
    env.linger->start(settings_.exit_linger, [this, id] {
        auto found = envs_.find(id);
        if (found == envs_.end()) return;
        Env& e = *found->second;
        e.linger_expired = true;
        if (!e.process_done) {
            // The channel closed but gaffer-init lives on: kill it; its exit finishes us.
            (void)e.process->kill(SIGKILL);
            if (e.cgroup) (void)e.cgroup->kill();
            return;
        }
        maybe_finish(id);
    });
}

void EnvironmentManager::finish(EnvId id) {
    auto it = envs_.find(id);
    std::unique_ptr<Env> env = std::move(it->second);
    envs_.erase(it);
    if (env->stream) env->stream->close();
    // Not reported yet (gaffer-init died without its exited frame): the facts are read
    // before the cgroup goes, and the Env (its Process, Stream and Timer) goes before the
    // scheduler hears of the exit, so that on_exit may start a replacement freely.
    auto* events = env->events;
    std::optional<scheduler::ExitInfo> info;
    if (events) info = exit_info(*env);
    if (env->cgroup)
        if (auto ok = env->cgroup->remove(); !ok) log(id, "warning", "cgroup clean-up: " + ok.error().message);
    env.reset();
    if (events) events->on_exit(id, std::move(*info));
}

// The scheduler's view of the end: what gaffer-init said, and the OOM kills the cgroup counted.
scheduler::ExitInfo EnvironmentManager::exit_info(Env& env) {
    if (env.cgroup) env.facts.oom_kills_final = env.cgroup->oom_kills();
    return detail::exit_info_of(env.facts, env.cgroup ? env.cgroup->limits().memory_bytes : 0);
}

// Reports the exit while gaffer-init is still going away; finish() removes the rest later
// and reports nothing more. The environment leaves list() now.
void EnvironmentManager::report_exit(Env& env) {
    if (!env.events) return;
    auto* events = std::exchange(env.events, nullptr);
    events->on_exit(env.id, exit_info(env));  // may start, stop or invoke others: `env` stays valid
}

std::vector<EnvironmentStatus> EnvironmentManager::list() const {
    std::vector<EnvironmentStatus> out;
    for (const auto& [id, env] : envs_) {
        if (!env->events) continue;
        EnvironmentStatus status;
        status.id = id;
        status.task = env->task;
        status.pid = env->process && !env->process_done ? env->process->pid() : -1;
        if (env->cgroup)
            if (auto stats = env->cgroup->stats()) status.cgroup = *stats;
        out.push_back(std::move(status));
    }
    return out;
}

}  // namespace gaffer::environment
