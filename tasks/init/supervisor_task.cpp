#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "tasks/init/detail/supervisor.hpp"

namespace gaffer::init {
namespace {
constexpr std::size_t kStderrTail = 2048;
constexpr std::string_view kArnPrefix = "arn:aws:lambda:gaffer-local:000000000000:function:";
constexpr std::string_view kServiceApiVariable = "GAFFER_RUNTIME_API";
}  // namespace

runtime::LaunchSpec with_service_address(const runtime::LaunchSpec& spec, std::uint16_t port) {
    runtime::LaunchSpec out = spec;
    std::erase_if(out.environment, [](const auto& kv) { return kv.first == kServiceApiVariable; });
    out.environment.emplace_back(kServiceApiVariable, "127.0.0.1:" + std::to_string(port));
    return out;
}

Supervisor::Child* Supervisor::running_child() {
    if (main_.pid > 0) return &main_;
    if (invocation_ && invocation_->pid > 0) return invocation_.get();
    return nullptr;
}

base::Result<void> Supervisor::start_task() {
    // Every task gets the server: lambda tasks for the Runtime API, all for the device
    // services (GAFFER_RUNTIME_API).
    ApiServer::Options options{spec_.runtime_api_port, std::string(kArnPrefix) + spec_.task,
                               spec_.interface == "lambda", spec_.service_timeout_ms};
    ApiServer::Callbacks callbacks{[this](runtime::Frame f) { on_api_frame(std::move(f)); },
                                   [this] { begin_front(); }};
    auto server = ApiServer::start(loop_, std::move(options), std::move(callbacks));
    if (!server) return tl::unexpected(server.error());
    api_ = std::move(*server);
    plan_.emplace(ExecPlan::make(with_service_address(spec_, api_->port()), api_->port()));
    if (spec_.interface == "process" && spec_.mode == "on-demand") {
        // One process per invocation: the environment is ready once it is built.
        ready_sent_ = true;
        control_.send(runtime::FrameType::ready, "{}");
        return {};
    }
    auto task = spawn(*plan_, false);
    if (!task) return tl::unexpected(task.error());
    main_.pid = task->pid;
    main_.out = std::move(task->stdout_r);
    main_.err = std::move(task->stderr_r);
    if (auto r = watch(main_); !r) return r;
    if (spec_.interface == "process") {
        ready_sent_ = true;
        control_.send(runtime::FrameType::ready, "{}");
    }
    return {};
}

base::Result<void> Supervisor::watch(Child& child) {
    auto out = loop_.add(child.out.get(), EPOLLIN, [this, &child](std::uint32_t) { read_pipe(child, true); });
    auto err = loop_.add(child.err.get(), EPOLLIN, [this, &child](std::uint32_t) { read_pipe(child, false); });
    if (!out || !err) return base::fail(base::Errc::io, "watch the task's output pipes");
    child.out_id = *out;
    child.err_id = *err;
    if (child.stdin_w) {
        auto in = loop_.add(child.stdin_w.get(), EPOLLOUT, [this, &child](std::uint32_t) { write_stdin(child); });
        if (!in) return base::fail(base::Errc::io, "watch the task's stdin pipe");
        child.stdin_id = *in;
    }
    return {};
}

void Supervisor::read_pipe(Child& child, bool is_stdout) {
    base::Fd& fd = is_stdout ? child.out : child.err;
    EventLoop::Id& id = is_stdout ? child.out_id : child.err_id;
    const bool capture = is_stdout && &child != &main_;
    // Static, not on the stack: with -fstack-clash-protection a 64 KiB frame is probed page
    // by page, 16 page faults on every first use in a fresh process. gaffer-init is single
    // threaded and this is not re-entered while the bytes are in use.
    static char buf[64 * 1024];
    for (;;) {
        if (!fd) return;
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            loop_.remove(id);
            fd.reset();
            (is_stdout ? child.out_lines : child.err_lines).flush(log_);
            return;
        }
        std::string_view data(buf, static_cast<std::size_t>(n));
        if (capture) {
            if (child.captured.size() + data.size() > runtime::kMaxResponseBytes) {
                if (!child.overflow && child.pid > 0) ::kill(child.pid, SIGKILL);
                child.overflow = true;
            } else {
                child.captured.append(data);
            }
            continue;
        }
        (is_stdout ? child.out_lines : child.err_lines).feed(data, log_);
        if (!is_stdout && &child != &main_) {
            child.stderr_tail.append(data);
            if (child.stderr_tail.size() > kStderrTail)
                child.stderr_tail.erase(0, child.stderr_tail.size() - kStderrTail);
        }
    }
}

void Supervisor::write_stdin(Child& child) {
    while (child.stdin_w && child.event_sent < child.event.size()) {
        ssize_t n = ::write(child.stdin_w.get(), child.event.data() + child.event_sent,
                            child.event.size() - child.event_sent);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0) break;  // EPIPE: the process does not read its input
        child.event_sent += static_cast<std::size_t>(n);
    }
    loop_.remove(child.stdin_id);
    child.stdin_w.reset();
    std::string().swap(child.event);
}

void Supervisor::drain(Child& child) {
    // Whatever the exited process left in its pipes; a descendant still holding a pipe open
    // gives EAGAIN here and does not hold the result back.
    read_pipe(child, true);
    read_pipe(child, false);
    child.out_lines.flush(log_);
    child.err_lines.flush(log_);
}

void Supervisor::begin_front() {
    if (queue_.empty() || queue_.front().started || stopping_) return;
    Pending& p = queue_.front();
    if (spec_.interface == "lambda") {
        if (!api_->has_waiter()) return;  // the task calls GET /next when it is ready
        p.started = true;
        front_timeout_ms_ = p.invocation.deadline_epoch_ms - base::wall_epoch_millis();
        arm(deadline_, std::max<std::int64_t>(0, front_timeout_ms_));
        api_->deliver(p.invocation);
        return;
    }
    p.started = true;
    front_timeout_ms_ = p.invocation.deadline_epoch_ms - base::wall_epoch_millis();
    arm(deadline_, std::max<std::int64_t>(0, front_timeout_ms_));
    auto task = spawn(*plan_, true);
    if (!task) {
        const std::string id = p.invocation.id;
        queue_.pop_front();
        arm(deadline_, -1);
        result(id, runtime::kStatusFunctionError, task.error().message, {});
        begin_front();
        return;
    }
    invocation_ = std::make_unique<Child>();
    invocation_->pid = task->pid;
    invocation_->stdin_w = std::move(task->stdin_w);
    invocation_->out = std::move(task->stdout_r);
    invocation_->err = std::move(task->stderr_r);
    invocation_->event = std::move(p.invocation.event);
    if (auto r = watch(*invocation_); !r) finish("setup_failed", 0, 0, r.error().message, 1);
    write_stdin(*invocation_);
}

void Supervisor::on_api_frame(runtime::Frame frame) {
    switch (frame.type) {
        case runtime::FrameType::ready:
            if (!ready_sent_) {
                ready_sent_ = true;
                control_.send(frame);
            }
            return;
        case runtime::FrameType::result:
            arm(deadline_, -1);
            if (!queue_.empty()) queue_.pop_front();
            control_.send(frame);
            begin_front();
            return;
        case runtime::FrameType::init_error:
            control_.send(frame);
            finish("init_error", 0, 0, "the runtime reported an init error", 1);
        case runtime::FrameType::service_request:
            control_.send(frame);
            return;
        default: return;
    }
}

void Supervisor::on_main_exit(int status) {
    if (stopping_) finish("stopped", WIFEXITED(status) ? WEXITSTATUS(status) : 0,
                          WIFSIGNALED(status) ? WTERMSIG(status) : 0, "shut down by gafferd", 0);
    drain(main_);
    if (!queue_.empty() && queue_.front().started) {
        const std::string id = queue_.front().invocation.id;
        queue_.pop_front();
        result(id, runtime::kStatusCrashed, describe_status(status), {});
    }
    finish_with_status(status, spec_.interface == "lambda" && !ready_sent_ ? "the runtime exited during init: " : "the task ");
}

void Supervisor::on_invocation_exit(int status) {
    std::unique_ptr<Child> child = std::move(invocation_);
    drain(*child);
    loop_.remove(child->out_id);
    loop_.remove(child->err_id);
    loop_.remove(child->stdin_id);
    if (stopping_) finish("stopped", 0, 0, "shut down by gafferd", 0);
    arm(deadline_, -1);
    if (queue_.empty()) return;
    const std::string id = queue_.front().invocation.id;
    queue_.pop_front();
    if (child->overflow) {
        result(id, runtime::kStatusFunctionError,
               "the response on stdout exceeded " + std::to_string(runtime::kMaxResponseBytes) + " bytes", {});
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        result(id, runtime::kStatusOk, {}, std::move(child->captured));
    } else {
        std::string detail = describe_status(status);
        if (!child->stderr_tail.empty()) detail += ": " + child->stderr_tail;
        result(id, runtime::kStatusFunctionError, detail, std::move(child->captured));
    }
    begin_front();
}

}  // namespace gaffer::init
