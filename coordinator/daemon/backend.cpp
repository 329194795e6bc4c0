#include "coordinator/daemon/backend.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "gaffer_build_config.hpp"

namespace gaffer::daemon {

namespace {
api::InvocationOutcome to_api(const scheduler::Outcome& outcome) {
    auto status = api::parse_status_name(scheduler::status_name(outcome.status));
    return {status.value_or(api::InvocationStatus::crashed), outcome.payload, outcome.detail};
}

std::string mode_name(manifest::Mode mode) {
    return mode == manifest::Mode::long_lived ? "long_lived" : "on_demand";
}

// Whether a manifest's account is root: uid 0 by number or by name. An unknown name is
// not root; the environment reports it when the task starts.
bool runs_as_root(const std::string& user) {
    if (user.empty()) return false;  // the daemon's default_user, which the config keeps non-root
    if (user.find_first_not_of("0123456789") == std::string::npos) return std::stoul(user) == 0;
    struct passwd pw {};
    struct passwd* found = nullptr;
    char buf[4096];
    return ::getpwnam_r(user.c_str(), &pw, buf, sizeof buf, &found) == 0 && found && pw.pw_uid == 0;
}

// The last `tail_bytes` of a file, read without loading the rest.
base::Result<std::string> read_tail(const std::string& path, std::size_t tail_bytes) {
    base::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (errno == ENOENT) return base::fail(base::Errc::unavailable, "the task has written no log yet (" + path + ")");
        return base::fail_errno(base::Errc::io, "open " + path, errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return base::fail_errno(base::Errc::io, "stat " + path, errno);
    auto size = static_cast<std::size_t>(st.st_size);
    std::size_t want = std::min(size, tail_bytes);
    std::string out(want, '\0');
    ssize_t n = ::pread(fd.get(), out.data(), want, static_cast<off_t>(size - want));
    if (n < 0) return base::fail_errno(base::Errc::io, "read " + path, errno);
    out.resize(static_cast<std::size_t>(n));
    return out;
}
}  // namespace

DaemonBackend::DaemonBackend(const config::Config& config, scheduler::Scheduler& scheduler,
                             store::Database& database, store::SqliteJournal& journal,
                             const base::Clock& clock)
    : config_(config), scheduler_(scheduler), database_(database), journal_(journal), clock_(clock),
      started_(clock.now()) {}

void DaemonBackend::restore_tasks() {
    auto stored = database_.list_tasks();
    if (!stored) {
        base::log_error("cannot read the installed tasks: " + stored.error().message);
        return;
    }
    for (auto& task : *stored) {
        auto parsed = manifest::parse(task.manifest_json);
        if (!parsed) {
            base::log_error("task " + task.name + " is stored but no longer valid, left out: " +
                            parsed.error().message);
            continue;
        }
        if (auto put = scheduler_.put_task(std::move(*parsed)); !put)
            base::log_error("task " + task.name + " cannot be restored: " + put.error().message);
    }
}

base::Result<api::PutTaskResult> DaemonBackend::put_task(std::string_view manifest_json) {
    if (shutting_down_) return base::fail(base::Errc::unavailable, "gafferd is shutting down");
    auto parsed = manifest::parse(manifest_json);
    if (!parsed) return tl::unexpected(parsed.error());
    manifest::Manifest task = std::move(*parsed);
    if (!config_.daemon.allow_root_tasks && runs_as_root(task.user))
        return base::fail(base::Errc::invalid, "user: \"" + task.user +
                                                   "\" is root, and daemon.allow_root_tasks is off");
    bool created = scheduler_.find_task(task.name) == nullptr;
    if (created && scheduler_.tasks().size() >= config_.daemon.max_tasks)
        return base::fail(base::Errc::conflict, "the gateway already holds its maximum of " +
                                                    std::to_string(config_.daemon.max_tasks) +
                                                    " tasks (daemon.max_tasks)");
    // Disk first: a task the scheduler runs is always one that survives a restart.
    if (auto saved = database_.put_task(task.name, manifest::to_json(task), "enabled"); !saved)
        return tl::unexpected(saved.error());
    std::string name = task.name;
    if (auto put = scheduler_.put_task(std::move(task)); !put) {
        if (created) (void)database_.remove_task(name);
        return tl::unexpected(put.error());
    }
    auto view = show_task(name);
    if (!view) return tl::unexpected(view.error());
    return api::PutTaskResult{std::move(*view), created};
}

api::TaskView DaemonBackend::view_of(const scheduler::TaskStatus& status) const {
    api::TaskView view;
    view.name = status.name;
    view.owner = status.owner;
    view.state = status.state;
    view.queued = status.queued;
    view.running = status.running;
    view.environments = status.environments;
    view.recent_failures = status.recent_failures;
    if (const auto* task = scheduler_.find_task(status.name)) {
        view.version = task->version;
        view.mode = mode_name(task->mode);
    }
    return view;
}

base::Result<std::vector<api::TaskView>> DaemonBackend::list_tasks() {
    std::vector<api::TaskView> views;
    for (const auto& status : scheduler_.tasks()) views.push_back(view_of(status));
    std::sort(views.begin(), views.end(), [](auto& a, auto& b) { return a.name < b.name; });
    return views;
}

base::Result<api::TaskView> DaemonBackend::show_task(std::string_view name) {
    for (const auto& status : scheduler_.tasks()) {
        if (status.name != name) continue;
        api::TaskView view = view_of(status);
        if (const auto* task = scheduler_.find_task(name)) view.manifest_json = manifest::to_json(*task);
        return view;
    }
    return base::fail(base::Errc::not_found, "no task named \"" + std::string(name) + "\"");
}

base::Result<void> DaemonBackend::remove_task(std::string_view name) {
    if (auto removed = scheduler_.remove_task(name); !removed) return removed;
    return database_.remove_task(name);
}

base::Result<std::string> DaemonBackend::invoke(std::string_view task, std::string payload, bool async,
                                                InvokeDone done) {
    scheduler::Scheduler::Done on_done;
    if (!async && done) on_done = [done = std::move(done)](const scheduler::Outcome& o) { done(to_api(o)); };
    return scheduler_.invoke(task, std::move(payload), async, std::move(on_done));
}

base::Result<api::InvocationView> DaemonBackend::show_invocation(std::string_view id) {
    auto record = journal_.find_invocation(std::string(id));
    if (!record) return tl::unexpected(record.error());
    api::InvocationView view;
    view.id = record->id;
    view.task = record->task;
    view.finished = record->finished;
    view.accepted_at_ms = record->accepted_at;
    view.finished_at_ms = record->finished_at;
    if (record->finished) view.outcome = to_api(record->outcome);
    return view;
}

base::Result<std::string> DaemonBackend::read_logs(std::string_view task, std::size_t tail_bytes) {
    if (!scheduler_.find_task(task))
        return base::fail(base::Errc::not_found, "no task named \"" + std::string(task) + "\"");
    return read_tail(config_.environments.log_dir + "/" + std::string(task) + ".log", tail_bytes);
}

base::Result<std::vector<api::EnvironmentView>> DaemonBackend::list_environments() {
    std::vector<api::EnvironmentView> views;
    auto now = clock_.now();
    for (const auto& env : scheduler_.environments()) {
        views.push_back({env.id, env.task, env.state,
                         std::chrono::duration<double>(now - env.since).count(), env.invocations});
    }
    return views;
}

api::StatusView DaemonBackend::status() {
    api::StatusView view;
    view.version = GAFFER_VERSION;
    view.uptime_seconds = std::chrono::duration<double>(clock_.now() - started_).count();
    for (const auto& task : scheduler_.tasks()) {
        view.tasks++;
        view.queued += task.queued;
        view.running += task.running;
        view.environments += task.environments;
    }
    view.shutting_down = shutting_down_;
    return view;
}

api::MetricsSnapshot DaemonBackend::metrics() {
    const auto& m = scheduler_.metrics();
    api::MetricsSnapshot snapshot;
    snapshot.invocations_by_status = m.invocations_by_status;
    snapshot.bucket_bounds.assign(std::begin(scheduler::Metrics::kBuckets), std::end(scheduler::Metrics::kBuckets));
    snapshot.bucket_counts.assign(std::begin(m.latency_counts), std::end(m.latency_counts));
    snapshot.duration_sum = m.latency_sum;
    snapshot.duration_count = m.latency_count;
    snapshot.queue_rejections = m.rejected_busy;
    snapshot.environments = scheduler_.environments().size();
    snapshot.environments_started = m.environments_started;
    snapshot.tasks = scheduler_.tasks().size();
    return snapshot;
}

}  // namespace gaffer::daemon
