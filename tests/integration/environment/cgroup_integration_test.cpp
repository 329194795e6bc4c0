// Real cgroups, real limits: a forked child is attached through cgroup.procs and made to
// hit each limit.
#include <doctest/doctest.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tasks/environment/environment.hpp"

using namespace gaffer;
using namespace gaffer::environment;

namespace {

// Each run gets its own parent so that concurrent test runs never clean up each other.
struct Tree {
    std::string parent = "gaffer-itest-" + std::to_string(::getpid());
    CgroupTree tree = open();

    CgroupTree open() {
        auto layout = detect_layout();
        REQUIRE_MESSAGE(layout, layout.error().message);
        auto t = CgroupTree::open(*layout, {parent, true});
        REQUIRE_MESSAGE(t, t.error().message);
        return std::move(*t);
    }
    ~Tree() {
        (void)tree.cleanup_stale();
        for (const auto& dir : tree.parent_dirs()) ::rmdir(dir.c_str());
    }
};

// A forked child that waits until the parent has put it into the cgroup, then runs
// `body` and exits with its return value.
struct Child {
    pid_t pid = -1;
    int go[2] = {-1, -1};
    int report[2] = {-1, -1};

    template <class Body>
    explicit Child(Body body) {
        REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(report, O_CLOEXEC) == 0);
        pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            char c;
            if (::read(go[0], &c, 1) != 1) ::_exit(100);
            ::_exit(body(report[1]));
        }
        ::close(go[0]);
        ::close(report[1]);
    }
    void attach(CgroupFs& fs, const Cgroup& group) {
        for (const auto& procs : group.procs_files())
            REQUIRE_MESSAGE(fs.write(procs, std::to_string(pid)), procs);
        REQUIRE(::write(go[1], "g", 1) == 1);
    }
    // One '\n'-terminated line: grandchildren may hold the pipe open, so no EOF.
    std::string read_line() {
        std::string out;
        char c;
        while (::read(report[0], &c, 1) == 1 && c != '\n') out += c;
        return out;
    }
    int wait(rusage* usage = nullptr) {
        int status = 0;
        REQUIRE(::wait4(pid, &status, 0, usage) == pid);
        pid = -1;
        return status;
    }
    ~Child() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        ::close(go[1]);
        ::close(report[0]);
    }
};

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

}  // namespace

TEST_CASE("the memory limit kills a memory hog and the OOM kill is counted") {
    Tree t;
    auto group = t.tree.create("hog", CgroupLimits{32u << 20, 1000, 64});
    REQUIRE_MESSAGE(group, group.error().message);
    CHECK(group->stats()->oom_kills == 0);
    Child child([](int) {
        std::vector<char*> blocks;
        for (int i = 0; i < 64; ++i) {  // 512 MiB, touched page by page
            char* p = static_cast<char*>(::malloc(8u << 20));
            if (!p) return 3;
            std::memset(p, 0x5a, 8u << 20);
            blocks.push_back(p);
        }
        return 0;
    });
    child.attach(system_cgroup_fs(), *group);
    int status = child.wait();
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    auto stats = group->stats();
    REQUIRE(stats);
    CHECK(stats->oom_kills >= 1);
    CHECK(stats->memory_peak > (16u << 20));
    CHECK(group->remove());
}

TEST_CASE("the pids limit stops a fork bomb with EAGAIN and pids.events counts it") {
    Tree t;
    auto group = t.tree.create("bomb", CgroupLimits{64u << 20, 1000, 8});
    REQUIRE_MESSAGE(group, group.error().message);
    Child child([](int out) {
        int forked = 0, eagain = 0;
        for (int i = 0; i < 40; ++i) {
            pid_t p = ::fork();
            if (p == 0) {
                ::pause();
                ::_exit(0);
            }
            if (p > 0) ++forked;
            else if (errno == EAGAIN) ++eagain;
        }
        std::string line = std::to_string(forked) + " " + std::to_string(eagain) + "\n";
        (void)!::write(out, line.data(), line.size());
        ::close(out);
        ::pause();
        return 0;
    });
    child.attach(system_cgroup_fs(), *group);
    std::string report = child.read_line();
    int forked = -1, eagain = -1;
    REQUIRE(std::sscanf(report.c_str(), "%d %d", &forked, &eagain) == 2);
    CHECK(forked == 7);  // the child itself is the 8th
    CHECK(eagain == 40 - 7);
    auto stats = group->stats();
    REQUIRE(stats);
    CHECK(stats->pids_max_hits >= 1);
    CHECK(stats->processes == 8);
    REQUIRE(group->remove());
    int status = child.wait();
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
}

TEST_CASE("a CPU limit of 0.2 CPU throttles a busy loop") {
    Tree t;
    auto group = t.tree.create("spin", CgroupLimits{64u << 20, 200, 64});
    REQUIRE_MESSAGE(group, group.error().message);
    Child child([](int) {
        timespec start{}, now{};
        ::clock_gettime(CLOCK_MONOTONIC, &start);
        volatile unsigned long spin = 0;
        do {
            for (int i = 0; i < 100000; ++i) spin = spin + 1;
            ::clock_gettime(CLOCK_MONOTONIC, &now);
        } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) <
                 1200000000L);
        return 0;
    });
    child.attach(system_cgroup_fs(), *group);
    rusage usage{};
    int status = child.wait(&usage);
    REQUIRE(WIFEXITED(status));
    double cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    MESSAGE("CPU time over 1.2 s wall: " << cpu << " s");
    CHECK(cpu < 0.5);
    auto stats = group->stats();
    REQUIRE(stats);
    CHECK(stats->nr_throttled > 0);
    CHECK(stats->throttled_usec > 0);
    CHECK(group->remove());
}

TEST_CASE("kill and remove leave no process and no cgroup directory") {
    Tree t;
    auto group = t.tree.create("sleeper", CgroupLimits{});
    REQUIRE_MESSAGE(group, group.error().message);
    Child child([](int) {
        ::pause();
        return 0;
    });
    child.attach(system_cgroup_fs(), *group);
    CHECK(group->pids().value() == std::vector<pid_t>{child.pid});
    REQUIRE(group->remove());
    int status = child.wait();
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    for (const auto& dir : group->dirs()) CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("cleanup_stale kills and removes the cgroups a crashed daemon left") {
    // Forked before the tree exists: a forked child keeps the parent's fds, and with them
    // the tree's lock (gafferd's children exec, and the lock fd is O_CLOEXEC).
    Child child([](int) {
        ::pause();
        return 0;
    });
    Tree t;
    std::vector<std::string> dirs;
    {
        CgroupTree crashed = std::move(t.tree);
        auto group = crashed.create("stale", CgroupLimits{});
        REQUIRE_MESSAGE(group, group.error().message);
        child.attach(system_cgroup_fs(), *group);
        dirs = group->dirs();
        // A second daemon on the same parent is refused while the first holds it.
        auto rival = CgroupTree::open(*detect_layout(), {t.parent, true});
        REQUIRE_FALSE(rival);
        CHECK(rival.error().code == base::Errc::busy);
    }  // the group is dropped without remove(), and the tree released, as a crash would
    t.tree = t.open();  // the restarted daemon
    auto removed = t.tree.cleanup_stale();
    REQUIRE_MESSAGE(removed, removed.error().message);
    CHECK(*removed == 1);
    int status = child.wait();
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    for (const auto& dir : dirs) CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("limits are written even while signals keep arriving") {
    // gafferd takes SIGCHLD all the time; v1's memory.limit_in_bytes fails with EINTR
    // whenever one is pending at the write.
    struct sigaction action {};
    action.sa_handler = [](int) {};
    action.sa_flags = SA_RESTART;
    struct sigaction previous {};
    REQUIRE(::sigaction(SIGALRM, &action, &previous) == 0);
    itimerval storm{{0, 20}, {0, 20}};
    REQUIRE(::setitimer(ITIMER_REAL, &storm, nullptr) == 0);
    Tree t;
    int failures = 0;
    std::string first_error;
    for (int i = 0; i < 200; ++i) {
        auto group = t.tree.create("storm-" + std::to_string(i), CgroupLimits{64u << 20, 500, 16});
        if (!group) {
            if (failures++ == 0) first_error = group.error().message;
            continue;
        }
        (void)group->remove();
    }
    itimerval off{};
    ::setitimer(ITIMER_REAL, &off, nullptr);
    ::sigaction(SIGALRM, &previous, nullptr);
    CHECK_MESSAGE(failures == 0, first_error);
}
