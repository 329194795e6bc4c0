#include "tasks/init/detail/supervisor.hpp"

#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace gaffer::init {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxQueued = 64;
constexpr std::size_t kMaxIdBytes = 128;
constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT};

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

bool valid_id(const std::string& id) {
    if (id.empty() || id.size() > kMaxIdBytes) return false;
    for (char c : id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
            return false;
    return true;
}

std::string make_trace_id() {
    unsigned char r[12] = {};
    [[maybe_unused]] auto n = ::getrandom(r, sizeof r, GRND_NONBLOCK);
    char buf[64];
    int len = std::snprintf(buf, sizeof buf, "Root=1-%08llx-",
                            static_cast<unsigned long long>(base::wall_epoch_millis() / 1000));
    for (unsigned char b : r) len += std::snprintf(buf + len, sizeof buf - static_cast<std::size_t>(len), "%02x", b);
    return std::string(buf, static_cast<std::size_t>(len)) + ";Sampled=0";
}

}  // namespace

std::string describe_status(int status) {
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

sigset_t Supervisor::handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (int s : kForwarded) sigaddset(&set, s);
    return set;
}

base::Result<void> Supervisor::setup() {
    sigset_t set = handled_signals();
    signals_.reset(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
    deadline_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    grace_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!signals_ || !deadline_ || !grace_) return base::fail_errno(base::Errc::io, "signalfd/timerfd", errno);
    auto a = loop_.add(signals_.get(), EPOLLIN, [this](std::uint32_t) { on_signal(); });
    auto b = loop_.add(deadline_.get(), EPOLLIN, [this](std::uint32_t) { on_deadline(); });
    auto c = loop_.add(grace_.get(), EPOLLIN, [this](std::uint32_t) {
        ::kill(-1, SIGKILL);
        finish("stopped", 0, 0, "the task did not stop within the grace period", 0);
    });
    auto d = loop_.add(control_.fd(), EPOLLIN, [this](std::uint32_t) { on_control(); });
    if (!a || !b || !c || !d) return base::fail(base::Errc::io, "event loop registration failed");
    return {};
}

void Supervisor::run() {
    if (auto r = setup(); !r) finish("setup_failed", 0, 0, r.error().message, 1);
    if (auto r = start_task(); !r) finish("setup_failed", 0, 0, r.error().message, 1);
    on_control();  // frames that arrived with the launch frame
    for (;;) {
        if (auto r = loop_.run_once(-1); !r) finish("setup_failed", 0, 0, r.error().message, 1);
    }
}

void Supervisor::on_control() {
    if (auto r = control_.read_available(); !r) {
        if (r.error().code != base::Errc::unavailable) protocol_error(r.error().message);
        // gafferd is gone: nobody to report to.
        ::kill(-1, SIGKILL);
        ::_exit(1);
    }
    while (auto frame = control_.next()) on_frame(std::move(*frame));
}

void Supervisor::on_frame(runtime::Frame frame) {
    switch (frame.type) {
        case runtime::FrameType::invoke: on_invoke(frame); return;
        case runtime::FrameType::shutdown: on_shutdown(frame); return;
        case runtime::FrameType::service_reply: {
            auto reply = runtime::parse_service_reply(frame.header);
            if (!reply) protocol_error(reply.error().message);
            if (api_) api_->answer_service(*reply, std::move(frame.payload));
            return;
        }
        default:
            protocol_error("unexpected frame type " + std::to_string(static_cast<int>(frame.type)) +
                           " from gafferd");
    }
}

void Supervisor::on_invoke(const runtime::Frame& frame) {
    Json h = Json::parse(frame.header, nullptr, false);
    if (!h.is_object() || !h.contains("id") || !h["id"].is_string())
        protocol_error("invoke: header must be a JSON object with a string \"id\"");
    Pending p;
    p.invocation.id = h["id"].get<std::string>();
    if (!valid_id(p.invocation.id))
        protocol_error("invoke: id must be 1-128 characters of [A-Za-z0-9._-]");
    const std::int64_t now = base::wall_epoch_millis();
    std::int64_t deadline = now + spec_.timeout_ms;
    if (auto it = h.find("deadline_ms"); it != h.end() && !it->is_null()) {
        if (!it->is_number_integer()) protocol_error("invoke: deadline_ms must be an integer");
        const auto given = it->get<std::int64_t>();
        if (given > 0 && given < deadline) deadline = given;
    }
    p.invocation.deadline_epoch_ms = deadline;
    if (auto it = h.find("trace_id"); it != h.end() && it->is_string() && !it->get<std::string>().empty())
        p.invocation.trace_id = it->get<std::string>();
    else
        p.invocation.trace_id = make_trace_id();
    p.invocation.event = frame.payload;
    if (stopping_) {
        result(p.invocation.id, runtime::kStatusCrashed, "the environment is shutting down", {});
        return;
    }
    if (spec_.interface == "process" && spec_.mode == "long-lived") {
        result(p.invocation.id, runtime::kStatusFunctionError,
               "a long-lived process task takes no invocations", {});
        return;
    }
    if (queue_.size() >= kMaxQueued) protocol_error("invoke: more than 64 invocations queued");
    queue_.push_back(std::move(p));
    if (queue_.size() == 1) begin_front();
}

void Supervisor::on_shutdown(const runtime::Frame& frame) {
    Json h = Json::parse(frame.header, nullptr, false);
    std::int64_t grace = 3000;
    if (h.is_object() && h.contains("grace_ms")) {
        if (!h["grace_ms"].is_number_unsigned()) protocol_error("shutdown: grace_ms must be an unsigned integer");
        grace = h["grace_ms"].get<std::int64_t>();
    }
    stopping_ = true;
    Child* child = running_child();
    if (!child) finish("stopped", 0, 0, "shut down by gafferd", 0);
    ::kill(child->pid, SIGTERM);
    arm(grace_, grace);
}

void Supervisor::on_signal() {
    signalfd_siginfo info{};
    bool child_exited = false;
    while (::read(signals_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        const int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGCHLD) {
            child_exited = true;
            continue;
        }
        if (Child* child = running_child()) {
            ::kill(child->pid, sig);
        } else if (sig == SIGTERM || sig == SIGINT) {
            finish("stopped", 0, 0, "stopped by signal " + std::to_string(sig), 0);
        }
    }
    if (child_exited) reap();
}

void Supervisor::reap() {
    // PID 1 inherits every orphan in the namespace: reap them all, not only our children.
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == main_.pid) {
            main_.pid = -1;
            on_main_exit(status);
        } else if (invocation_ && pid == invocation_->pid) {
            invocation_->pid = -1;
            on_invocation_exit(status);
        }
    }
}

void Supervisor::arm(base::Fd& timer, std::int64_t millis) {
    itimerspec spec{};
    if (millis >= 0) {
        // A zero it_value disarms: an already passed deadline fires after 1 ns instead.
        const std::int64_t ns = millis > 0 ? millis * 1000000 : 1;
        spec.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
        spec.it_value.tv_nsec = static_cast<long>(ns % 1000000000);
    }
    ::timerfd_settime(timer.get(), 0, &spec, nullptr);
}

void Supervisor::on_deadline() {
    std::uint64_t expirations = 0;
    if (::read(deadline_.get(), &expirations, sizeof expirations) <= 0 || queue_.empty()) return;
    const std::string id = queue_.front().invocation.id;
    queue_.pop_front();
    result(id, runtime::kStatusTimeout, "timed out after " + std::to_string(front_timeout_ms_) + " ms", {});
    fail_queue(runtime::kStatusCrashed, "the environment was ended by the timeout of invocation " + id);
    ::kill(-1, SIGKILL);
    finish("timeout", 0, 0, "invocation " + id + " timed out", 1);
}

void Supervisor::protocol_error(const std::string& message) {
    control_.log("error", "gaffer-init: protocol error: " + message);
    ::kill(-1, SIGKILL);
    finish("protocol_error", 0, 0, message, 2);
}

void Supervisor::result(const std::string& id, std::string_view status, const std::string& detail,
                        std::string payload) {
    Json h{{"id", id}, {"status", status}};
    if (!detail.empty()) h["detail"] = detail;
    control_.send(runtime::FrameType::result, dump(h), std::move(payload));
}

void Supervisor::fail_queue(std::string_view status, const std::string& detail) {
    while (!queue_.empty()) {
        result(queue_.front().invocation.id, status, detail, {});
        queue_.pop_front();
    }
}

void Supervisor::finish(std::string_view reason, int code, int signal, const std::string& detail,
                        int exit_code) {
    if (main_.pid > 0 || (invocation_ && invocation_->pid > 0)) ::kill(-1, SIGKILL);
    drain(main_);
    if (invocation_) drain(*invocation_);
    fail_queue(runtime::kStatusCrashed, "the environment ended: " + detail);
    if (reason == "setup_failed") control_.log("error", "gaffer-init: " + detail);
    control_.send(runtime::FrameType::exited,
                  dump({{"reason", reason}, {"code", code}, {"signal", signal}, {"detail", detail}}));
    ::kill(-1, SIGKILL);
    ::_exit(exit_code);
}

void Supervisor::finish_with_status(int status, const std::string& context) {
    const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    finish(clean ? "exited" : "crashed", WIFEXITED(status) ? WEXITSTATUS(status) : 0,
           WIFSIGNALED(status) ? WTERMSIG(status) : 0, context + describe_status(status), clean ? 0 : 1);
}

}  // namespace gaffer::init
