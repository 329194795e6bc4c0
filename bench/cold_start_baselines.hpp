// Baselines for the cold-start benchmark, measured in the same run as Gaffer:
// a bare clone()+exec of /bin/true in fresh PID, mount, IPC and UTS namespaces, and
// bubblewrap doing the same.
#pragma once

#include <sched.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "bench/bench_stats.hpp"

extern char** environ;

namespace gaffer::bench {

// CPU time (user + system, microseconds) of this process plus every descendant reaped so
// far: the difference across one contender is what its whole process tree used.
inline double cpu_micros() {
    double total = 0;
    for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
        rusage ru{};
        ::getrusage(who, &ru);
        total += static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                 static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    }
    return total;
}

inline int exec_true(void*) {
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    ::execv(argv[0], argv);
    ::_exit(127);
}

// Microseconds for one clone(NEWPID|NEWNS|NEWIPC|NEWUTS) + exec(/bin/true) + wait.
inline double bare_clone_once() {
    static char stack[64 * 1024];
    auto start = Clock::now();
    pid_t pid = ::clone(exec_true, stack + sizeof stack,
                        CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD, nullptr);
    if (pid < 0) return -1;
    int status = 0;
    ::waitpid(pid, &status, 0);
    double us = micros_since(start);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? us : -1;
}

// Microseconds for bwrap with the same namespaces running /bin/true.
inline double bwrap_once() {
    const char* argv[] = {"/usr/bin/bwrap", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                          "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                          "/bin/true", nullptr};
    auto start = Clock::now();
    pid_t pid = -1;
    if (::posix_spawn(&pid, argv[0], nullptr, nullptr, const_cast<char**>(argv), environ) != 0) return -1;
    int status = 0;
    ::waitpid(pid, &status, 0);
    double us = micros_since(start);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? us : -1;
}

}  // namespace gaffer::bench
