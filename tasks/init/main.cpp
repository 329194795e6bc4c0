// gaffer-init: PID 1 of every Gaffer execution environment. Started by gafferd with fd 3 =
// its end of the control channel (see tasks/runtime/runtime.hpp), and optionally
// `--pool-cgroup PROCS_FILE...`: the cgroup.procs files of the cgroup a pooled gaffer-init
// waits in (the one of the environment it is going to be).
//
// Everything that does not depend on the task happens before the launch frame is read, so
// that gafferd can start gaffer-init ahead of time (the warm pool) and a launch only pays
// for the task's own part. The outer process joins the cgroup it is given (a pooled
// gaffer-init: its environment's), unshares the PID, IPC and UTS namespaces and forks
// PID 1. PID 1 unshares a mount namespace and builds the task-independent part of the new
// root in it (a copy of the host's mounts as they are then: gafferd discards pooled
// processes when its mount table changes), empties the capability bounding set its task
// processes inherit, then waits for the launch frame. PID 1 then moves itself into the
// task's cgroup if the frame names one (a gaffer-init started for this launch), unshares a
// new network namespace for network "none", tells the outer process to follow it into the
// cgroup, and does everything else. The outer process detaches the host's old root once
// PID 1 has finished the root, then only forwards signals and exits with the child's
// status.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sched.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/init/detail/control.hpp"
#include "tasks/init/detail/sandbox.hpp"
#include "tasks/init/detail/supervisor.hpp"

namespace {

using namespace gaffer;
constexpr int kControlFd = 3;
constexpr std::size_t kMaxPoolCgroups = 8;  // one per hierarchy: v1 has three
// The namespaces the outer process makes before the launch frame. PID 1 makes the mount
// namespace; the network namespace depends on the task.
constexpr int kEarlyNamespaces = CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;

[[noreturn]] void fail_setup(init::Control& control, std::string_view reason, const std::string& message,
                             int exit_code) {
    base::log_error("gaffer-init: " + message);
    control.log("error", "gaffer-init: " + message);
    control.send(runtime::FrameType::exited,
                 nlohmann::json{{"reason", reason}, {"code", 0}, {"signal", 0}, {"detail", message}}.dump(
                     -1, ' ', false, nlohmann::json::error_handler_t::replace));
    ::_exit(exit_code);
}

// Moves the calling process into each cgroup: "0" in cgroup.procs means the writer, which
// also works from inside a PID namespace, where the process's host pid is unknown.
base::Result<void> enter_cgroups(const std::vector<std::string>& procs_files) {
    for (const auto& path : procs_files) {
        base::Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
        if (!fd || ::write(fd.get(), "0", 1) != 1) return base::fail_errno(base::Errc::io, "enter cgroup " + path, errno);
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

// PID 1 -> outer process: the task's cgroup.procs files, each ended by '\0', then one more
// '\0' once PID 1 is in its cgroups; later one 'p' once the new root is finished.
// EOF instead: PID 1 failed before.
void send_cgroups(int fd, const std::vector<std::string>& procs_files) {
    std::string message;
    for (const auto& p : procs_files) message += p + '\0';
    message += '\0';
    std::string_view rest = message;
    while (!rest.empty()) {
        ssize_t n = ::write(fd, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Reads until the cgroup list's end; false on EOF. `rest` gets what followed it.
bool read_cgroups(int fd, std::vector<std::string>& procs_files, std::string& rest) {
    std::string buffer;
    char chunk[1024];
    for (;;) {
        // The list is "" (no cgroup) or "a\0b\0\0": its end is a '\0' at the start or a
        // "\0\0" (paths are never empty).
        std::size_t end = buffer.empty() || buffer[0] != '\0' ? buffer.find(std::string_view("\0\0", 2)) : 0;
        if (end != std::string::npos) {
            std::string_view list(buffer.data(), end == 0 ? 0 : end + 1);
            while (!list.empty()) {
                std::size_t cut = list.find('\0');
                procs_files.emplace_back(list.substr(0, cut));
                list.remove_prefix(cut + 1);
            }
            rest = buffer.substr(end == 0 ? 1 : end + 2);
            return true;
        }
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
}

// The outer process's part of a launch: follow PID 1 into the task's cgroups, if any (so
// nothing of the environment stays in gafferd's cgroup) and, once PID 1 has pivoted,
// into its mount namespace to detach the old root there: the unmount's RCU wait then delays
// neither PID 1 nor the task, and costs no extra process. A failure reaches gafferd as a
// log line; the old root stays unreachable to the task regardless (see build_root).
void follow_pid1(base::Fd from_pid1, pid_t child, init::Control& control) {
    std::vector<std::string> procs_files;
    std::string rest;
    if (!read_cgroups(from_pid1.get(), procs_files, rest)) return;
    if (auto r = enter_cgroups(procs_files); !r) control.log("error", "gaffer-init: " + r.error().message);
    if (rest.empty()) {
        char byte = 0;
        ssize_t n;
        do {
            n = ::read(from_pid1.get(), &byte, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1) return;  // PID 1 failed before pivoting
    }
    const std::string ns_path = "/proc/" + std::to_string(child) + "/ns/mnt";
    base::Fd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns && errno == ENOENT) return;  // PID 1 has exited already: the namespace is gone
    if (!ns || ::setns(ns.get(), CLONE_NEWNS) != 0) {
        control.log("error", "gaffer-init: cannot join PID 1's mount namespace " + ns_path + ": " + std::strerror(errno));
        return;
    }
    if (auto r = init::detach_old_root(); !r) control.log("error", "gaffer-init: " + r.error().message);
}

// The task-independent part of PID 1: its mount namespace (see sandbox.hpp) and the
// capability bounding set its task processes inherit. "" or what failed.
std::string prepare_pid1() {
    if (::unshare(CLONE_NEWNS) != 0) return std::string("unshare mount namespace: ") + std::strerror(errno);
    if (auto r = init::prepare_root(); !r) return r.error().message;
    if (auto r = init::drop_bounding_capabilities(); !r) return r.error().message;
    return "";
}

[[noreturn]] void run_pid1(init::Control& control, std::string early_error, base::Fd to_outer) {
    if (early_error.empty()) early_error = prepare_pid1();
    auto launch = control.read_launch();
    if (!launch) {
        if (launch.error().code == base::Errc::unavailable) ::_exit(1);  // gafferd let us go unused
        fail_setup(control, "protocol_error", launch.error().message, 2);
    }
    auto parsed = runtime::parse_launch_spec(launch->header);
    if (!parsed) fail_setup(control, "protocol_error", parsed.error().message, 2);
    const runtime::LaunchSpec& spec = *parsed;
    if (!early_error.empty()) fail_setup(control, "setup_failed", early_error, 1);

    // The host's paths, as PID 1 sees them from the new root; the outer process sees the host's.
    std::vector<std::string> own_procs;
    for (const auto& file : spec.cgroup_procs) own_procs.push_back(init::host_path(file));
    if (auto r = enter_cgroups(own_procs); !r) fail_setup(control, "setup_failed", r.error().message, 1);
    if (spec.network == "none" && ::unshare(CLONE_NEWNET) != 0)
        fail_setup(control, "setup_failed", std::string("unshare network namespace: ") + std::strerror(errno), 1);
    send_cgroups(to_outer.get(), spec.cgroup_procs);

    auto log = init::LogSink::open(spec.log_path, spec.log_max_bytes, spec.log_keep, init::host_path(""));
    if (!log) fail_setup(control, "setup_failed", log.error().message, 1);
    if (auto r = init::finish_root(spec); !r) fail_setup(control, "setup_failed", r.error().message, 1);
    [[maybe_unused]] auto told = ::write(to_outer.get(), "p", 1);
    to_outer.reset();
    if (auto r = init::set_hostname(spec.hostname); !r) fail_setup(control, "setup_failed", r.error().message, 1);
    if (spec.network == "none")
        if (auto r = init::bring_up_loopback(); !r) fail_setup(control, "setup_failed", r.error().message, 1);
    auto loop = init::EventLoop::create();
    if (!loop) fail_setup(control, "setup_failed", loop.error().message, 1);
    init::Supervisor supervisor(spec, control, std::move(*log), std::move(*loop));
    supervisor.run();
}

// `--pool-cgroup FILE...`; nullopt (after a message) on anything else.
std::optional<std::vector<std::string>> parse_args(int argc, char** argv) {
    std::vector<std::string> pool;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--pool-cgroup" && i + 1 < argc && argv[i + 1][0] == '/' && pool.size() < kMaxPoolCgroups) {
            pool.emplace_back(argv[++i]);
            continue;
        }
        std::fprintf(stderr, "gaffer-init: unexpected argument \"%s\"; usage: gaffer-init [--pool-cgroup /path/cgroup.procs]...\n",
                     argv[i]);
        return std::nullopt;
    }
    return pool;
}

}  // namespace

int main(int argc, char** argv) {
    // gafferd may have made its socketpair non-blocking; our end is our own file description.
    int flags = ::fcntl(kControlFd, F_GETFL);
    if (flags < 0) {
        std::fprintf(stderr, "gaffer-init: fd 3 is not open: start me from gafferd\n");
        return 2;
    }
    auto pool_cgroup = parse_args(argc, argv);
    if (!pool_cgroup) return 2;
    ::fcntl(kControlFd, F_SETFL, flags & ~O_NONBLOCK);
    ::fcntl(kControlFd, F_SETFD, FD_CLOEXEC);
    // Whatever else gafferd leaked to us (Paho and libuv sockets, the API listener) must not
    // stay open for the life of the environment.
    ::close_range(kControlFd + 1, ~0U, 0);
    init::Control control{base::Fd(kControlFd)};

    // A failure before the launch frame is reported in answer to it, as it would have been
    // had it happened after: the environment ends with setup_failed and the reason.
    std::string early_error;
    if (auto r = enter_cgroups(*pool_cgroup); !r) early_error = r.error().message;
    if (early_error.empty() && ::unshare(kEarlyNamespaces) != 0)
        early_error = std::string("unshare: ") + std::strerror(errno);

    prepare_signals();
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        early_error = std::string("pipe2: ") + std::strerror(errno);
        run_pid1(control, early_error, base::Fd());
    }
    base::Fd from_pid1(pipe_fds[0]), to_outer(pipe_fds[1]);
    pid_t child = ::fork();
    if (child < 0) run_pid1(control, std::string("fork PID 1: ") + std::strerror(errno), base::Fd());
    if (child == 0) {
        // If the outer process is killed, take the whole namespace down with it.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        from_pid1.reset();
        run_pid1(control, early_error, std::move(to_outer));
    }
    to_outer.reset();
    follow_pid1(std::move(from_pid1), child, control);
    ::close_range(kControlFd, ~0U, 0);  // gafferd must see EOF when PID 1 is gone
    outer_wait(child);
}
