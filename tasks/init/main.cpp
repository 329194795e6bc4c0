// gaffer-init: PID 1 of every Gaffer execution environment. Started by gafferd with fd 3 =
// its end of the control channel (see tasks/runtime/runtime.hpp). The outer process reads
// the launch frame, enters the cgroup, unshares the namespaces and forks; the child is PID 1
// of the new PID namespace and does everything else. The outer process detaches the host's
// old root once PID 1 has pivoted away from it, then only forwards signals and exits with
// the child's status.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sched.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "tasks/init/detail/control.hpp"
#include "tasks/init/detail/sandbox.hpp"
#include "tasks/init/detail/supervisor.hpp"

namespace {

using namespace gaffer;
constexpr int kControlFd = 3;

[[noreturn]] void fail_setup(init::Control& control, std::string_view reason, const std::string& message,
                             int exit_code) {
    base::log_error("gaffer-init: " + message);
    control.log("error", "gaffer-init: " + message);
    control.send(runtime::FrameType::exited,
                 nlohmann::json{{"reason", reason}, {"code", 0}, {"signal", 0}, {"detail", message}}.dump(
                     -1, ' ', false, nlohmann::json::error_handler_t::replace));
    ::_exit(exit_code);
}

base::Result<void> enter_cgroups(const std::vector<std::string>& procs_files) {
    const std::string pid = std::to_string(::getpid());
    for (const auto& path : procs_files) {
        base::Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd || ::write(fd.get(), pid.data(), pid.size()) != static_cast<ssize_t>(pid.size()))
            return base::fail_errno(base::Errc::io, "enter cgroup " + path, errno);
    }
    return {};
}

void ignore_signal(int) {}

// PID 1 of a PID namespace receives a signal from inside only if it has a handler; the
// signals are blocked and read through a signalfd, the handler only makes them deliverable.
void prepare_signals() {
    sigset_t set = init::Supervisor::handled_signals();
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    struct sigaction sa {};
    sa.sa_handler = ignore_signal;
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGCHLD && sigismember(&set, sig)) ::sigaction(sig, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
}

[[noreturn]] void outer_wait(pid_t child) {
    // Stays outside the PID namespace: forwards gafferd's signals to PID 1 inside.
    sigset_t set = init::Supervisor::handled_signals();
    for (;;) {
        siginfo_t info{};
        int sig = ::sigwaitinfo(&set, &info);
        if (sig < 0) continue;
        if (sig != SIGCHLD) {
            ::kill(child, sig);
            continue;
        }
        int status = 0;
        pid_t done = ::waitpid(child, &status, WNOHANG);
        if (done == child) ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
}

// Waits until PID 1 has pivoted (one byte on `pivoted`; EOF: it failed before) and detaches
// the old root, in this otherwise idle process: the unmount's RCU wait then delays neither
// PID 1 nor the task, and costs no extra process. A failure reaches gafferd as a log line;
// the old root stays unreachable to the task regardless (see build_root).
void detach_when_pivoted(base::Fd pivoted, init::Control& control) {
    char byte = 0;
    ssize_t n;
    do {
        n = ::read(pivoted.get(), &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) return;
    if (auto r = init::detach_old_root(); !r) control.log("error", "gaffer-init: " + r.error().message);
}

[[noreturn]] void run_pid1(const runtime::LaunchSpec& spec, init::Control& control, base::Fd pivoted) {
    auto log = init::LogSink::open(spec.log_path, spec.log_max_bytes, spec.log_keep);
    if (!log) fail_setup(control, "setup_failed", log.error().message, 1);
    if (auto r = init::build_root(spec); !r) fail_setup(control, "setup_failed", r.error().message, 1);
    [[maybe_unused]] auto told = ::write(pivoted.get(), "p", 1);
    pivoted.reset();
    if (auto r = init::set_hostname(spec.hostname); !r) fail_setup(control, "setup_failed", r.error().message, 1);
    if (spec.network == "none")
        if (auto r = init::bring_up_loopback(); !r) fail_setup(control, "setup_failed", r.error().message, 1);
    auto loop = init::EventLoop::create();
    if (!loop) fail_setup(control, "setup_failed", loop.error().message, 1);
    init::Supervisor supervisor(spec, control, std::move(*log), std::move(*loop));
    supervisor.run();
}

}  // namespace

int main() {
    // gafferd may have made its socketpair non-blocking; our end is our own file description.
    int flags = ::fcntl(kControlFd, F_GETFL);
    if (flags < 0) {
        std::fprintf(stderr, "gaffer-init: fd 3 is not open: start me from gafferd\n");
        return 2;
    }
    ::fcntl(kControlFd, F_SETFL, flags & ~O_NONBLOCK);
    ::fcntl(kControlFd, F_SETFD, FD_CLOEXEC);
    // Whatever else gafferd leaked to us (Paho and libuv sockets, the API listener) must not
    // stay open for the life of the environment.
    ::close_range(kControlFd + 1, ~0U, 0);
    init::Control control{base::Fd(kControlFd)};

    auto launch = control.read_launch();
    if (!launch) {
        if (launch.error().code == base::Errc::unavailable) return 1;
        fail_setup(control, "protocol_error", launch.error().message, 2);
    }
    auto spec = runtime::parse_launch_spec(launch->header);
    if (!spec) fail_setup(control, "protocol_error", spec.error().message, 2);

    if (auto r = enter_cgroups(spec->cgroup_procs); !r) fail_setup(control, "setup_failed", r.error().message, 1);
    int ns = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID;
    if (spec->network == "none") ns |= CLONE_NEWNET;
    if (::unshare(ns) != 0) fail_setup(control, "setup_failed", std::string("unshare: ") + std::strerror(errno), 1);

    prepare_signals();
    int pivot_pipe[2];
    if (::pipe2(pivot_pipe, O_CLOEXEC) != 0)
        fail_setup(control, "setup_failed", std::string("pipe2: ") + std::strerror(errno), 1);
    base::Fd pivot_r(pivot_pipe[0]), pivot_w(pivot_pipe[1]);
    pid_t child = ::fork();
    if (child < 0) fail_setup(control, "setup_failed", std::string("fork PID 1: ") + std::strerror(errno), 1);
    if (child == 0) {
        // If the outer process is killed, take the whole namespace down with it.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        pivot_r.reset();
        run_pid1(*spec, control, std::move(pivot_w));
    }
    pivot_w.reset();
    detach_when_pivoted(std::move(pivot_r), control);
    ::close_range(kControlFd, ~0U, 0);  // gafferd must see EOF when PID 1 is gone
    outer_wait(child);
}
