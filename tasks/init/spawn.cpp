#include "tasks/init/detail/spawn.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace gaffer::init {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const std::string* find_var(const std::vector<std::string>& env, std::string_view name) {
    for (const auto& e : env)
        if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
            return &e;
    return nullptr;
}

void set_var(std::vector<std::string>& env, std::string_view name, const std::string& value) {
    std::string entry = std::string(name) + "=" + value;
    for (auto& e : env)
        if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') {
            e = std::move(entry);
            return;
        }
    env.push_back(std::move(entry));
}

bool is_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string resolve(const std::string& cmd, const std::string& path_var) {
    if (cmd.front() == '/') return cmd;
    if (is_file("/task/" + cmd) || cmd.find('/') != std::string::npos) return "/task/" + cmd;
    std::string_view dirs = path_var;
    while (!dirs.empty()) {
        auto colon = dirs.find(':');
        std::string dir(dirs.substr(0, colon));
        dirs = colon == std::string_view::npos ? std::string_view{} : dirs.substr(colon + 1);
        if (dir.empty()) continue;
        std::string candidate = dir + "/" + cmd;
        if (is_file(candidate)) return candidate;
    }
    return "/task/" + cmd;  // execve reports ENOENT with a path the author recognises
}

// The child's failure report: which step failed and errno, sent up a CLOEXEC pipe that
// execve closes on success.
struct ChildError {
    int step;
    int error;
};
constexpr const char* kSteps[] = {"dup2", "setsid", "clear ambient capabilities", "setgroups", "setresgid",
                                  "setresuid", "capset", "PR_SET_NO_NEW_PRIVS", "close_range", "chdir", "execve"};
constexpr int kExecveStep = 10;

[[noreturn]] void child_fail(int report_fd, int step) {
    ChildError e{step, errno};
    [[maybe_unused]] auto n = ::write(report_fd, &e, sizeof e);
    ::_exit(127);
}

}  // namespace

ExecPlan ExecPlan::make(const runtime::LaunchSpec& spec, std::uint16_t api_port) {
    ExecPlan plan;
    for (const auto& [k, v] : spec.environment) plan.env_.push_back(k + "=" + v);
    if (spec.interface == "lambda") {
        set_var(plan.env_, "AWS_LAMBDA_RUNTIME_API", "127.0.0.1:" + std::to_string(api_port));
        set_var(plan.env_, "_HANDLER", spec.handler);
        set_var(plan.env_, "LAMBDA_TASK_ROOT", "/task");
        set_var(plan.env_, "LAMBDA_RUNTIME_DIR", "/task");
        set_var(plan.env_, "AWS_LAMBDA_FUNCTION_NAME", spec.task);
        set_var(plan.env_, "AWS_LAMBDA_FUNCTION_VERSION", spec.version);
        const std::uint64_t mb = spec.memory_bytes ? spec.memory_bytes >> 20 : 128;
        set_var(plan.env_, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", std::to_string(mb));
        set_var(plan.env_, "AWS_LAMBDA_INITIALIZATION_TYPE", spec.mode == "long-lived" ? "provisioned-concurrency" : "on-demand");
    }
    if (!find_var(plan.env_, "PATH")) set_var(plan.env_, "PATH", kDefaultPath);
    if (!find_var(plan.env_, "HOME")) set_var(plan.env_, "HOME", "/tmp");
    plan.args_ = spec.command;
    plan.program_ = resolve(spec.command.front(), find_var(plan.env_, "PATH")->substr(5));
    for (auto& a : plan.args_) plan.argv_.push_back(a.data());
    plan.argv_.push_back(nullptr);
    for (auto& e : plan.env_) plan.envp_.push_back(e.data());
    plan.envp_.push_back(nullptr);
    plan.working_dir_ = spec.working_dir;
    plan.uid_ = spec.uid;
    plan.gid_ = spec.gid;
    return plan;
}

struct Spawner {
    struct Args {
        const ExecPlan* plan;
        int in_fd, out_fd, err_fd, report_fd;
    };
    static int child_main(void* raw) {
        const auto* a = static_cast<const Args*>(raw);
        exec_child(*a->plan, a->in_fd, a->out_fd, a->err_fd, a->report_fd);
    }

    // Runs in the child, which shares PID 1's memory until execve (see spawn()). Only
    // async-signal-safe calls from here to execve, and nothing that changes memory PID 1
    // uses afterwards (errno aside: PID 1 is suspended meanwhile and reads it from the pipe).
    [[noreturn]] static void exec_child(const ExecPlan& plan, int in_fd, int out_fd, int err_fd, int report_fd) {
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) child_fail(report_fd, 0);
        if (::setsid() < 0) child_fail(report_fd, 1);
        // The bounding set is empty already (drop_bounding_capabilities, in PID 1).
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
            child_fail(report_fd, 2);
        if (::setgroups(0, nullptr) != 0) child_fail(report_fd, 3);
        if (::setresgid(plan.gid_, plan.gid_, plan.gid_) != 0) child_fail(report_fd, 4);
        if (::setresuid(plan.uid_, plan.uid_, plan.uid_) != 0) child_fail(report_fd, 5);
        __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[2] = {};
        if (::syscall(SYS_capset, &header, data) != 0) child_fail(report_fd, 6);
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_fail(report_fd, 7);
        // Mark rather than close so the report pipe survives until execve succeeds.
        if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
            // Before Linux 5.11: close everything but the report pipe.
            const unsigned keep = static_cast<unsigned>(report_fd);
            if ((keep > 3 && ::close_range(3, keep - 1, 0) != 0) || ::close_range(keep + 1, ~0U, 0) != 0)
                child_fail(report_fd, 8);
        }
        if (::chdir(plan.working_dir_.c_str()) != 0) child_fail(report_fd, 9);
        ::execve(plan.program_.c_str(), const_cast<char* const*>(plan.argv_.data()),
                 const_cast<char* const*>(plan.envp_.data()));
        child_fail(report_fd, kExecveStep);
    }
};

namespace {
base::Result<std::pair<base::Fd, base::Fd>> make_pipe(int read_flags, int write_flags) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return base::fail_errno(base::Errc::io, "pipe2", errno);
    if (read_flags) ::fcntl(fds[0], F_SETFL, read_flags);
    if (write_flags) ::fcntl(fds[1], F_SETFL, write_flags);
    return std::make_pair(base::Fd(fds[0]), base::Fd(fds[1]));
}
}  // namespace

base::Result<void> drop_bounding_capabilities() {
    // Capabilities are numbered from 0 without gaps: EINVAL means past the kernel's last.
    for (int cap = 0; cap <= 63; ++cap) {
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
        if (errno == EINVAL) break;
        return base::fail_errno(base::Errc::io, "drop bounding capability " + std::to_string(cap), errno);
    }
    return {};
}

base::Result<TaskProcess> spawn(const ExecPlan& plan, bool pipe_stdin) {
    base::Fd in_r, in_w;
    if (pipe_stdin) {
        auto p = make_pipe(0, O_NONBLOCK);
        if (!p) return tl::unexpected(p.error());
        in_r = std::move(p->first);
        in_w = std::move(p->second);
    } else {
        in_r.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (!in_r) return base::fail_errno(base::Errc::io, "open /dev/null", errno);
    }
    auto out = make_pipe(O_NONBLOCK, 0);
    auto err = make_pipe(O_NONBLOCK, 0);
    auto report = make_pipe(0, 0);
    if (!out || !err || !report) return base::fail_errno(base::Errc::io, "pipe2 for the task", errno);

    // CLONE_VM|CLONE_VFORK, as posix_spawn does: the child borrows PID 1's memory until its
    // execve instead of copying the page tables and faulting on every page either side
    // writes, and PID 1 sleeps until then. The child has its own stack and signal
    // dispositions (no CLONE_SIGHAND), so resetting them does not touch PID 1's.
    alignas(64) static char stack[64 * 1024];
    Spawner::Args args{&plan, in_r.get(), out->second.get(), err->second.get(), report->second.get()};
    pid_t pid = ::clone(Spawner::child_main, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
    if (pid < 0) return base::fail_errno(base::Errc::io, "clone the task", errno);

    report->second.reset();
    ChildError e{};
    ssize_t n;
    do {
        n = ::read(report->first.get(), &e, sizeof e);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof e)) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        const char* step = e.step >= 0 && e.step <= kExecveStep ? kSteps[e.step] : "?";
        std::string what = std::string(step) + (e.step == kExecveStep ? " " + plan.program() : "");
        return base::fail_errno(base::Errc::invalid, what, e.error);
    }
    TaskProcess task;
    task.pid = pid;
    task.stdin_w = std::move(in_w);
    task.stdout_r = std::move(out->first);
    task.stderr_r = std::move(err->first);
    return task;
}

}  // namespace gaffer::init
