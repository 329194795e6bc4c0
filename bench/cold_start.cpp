// Cold start: building a Gaffer environment (cgroup with limits, PID/mount/IPC/UTS
// namespaces, gaffer-init, read-only root) and running /bin/true in it to completion,
// against a bare clone()+exec with the same namespaces and against bubblewrap, all in
// this run.   cold_start GAFFER_INIT [ITERATIONS]
//
// Gaffer is measured three ways:
//   pool      the steady state of a gateway between bursts: the warm pool (2, the default)
//             has refilled, and its gaffer-inits have finished their ahead-of-time part
//             (each PID 1 has built the task-independent root and waits for its launch
//             frame), before the next start. Untimed in between.
//   burst     starts back to back on the same manager (each once the one before has
//             been cleaned up), faster than the pool refills: every other start empties
//             the pool, whose refill then begins at once and races the next start (which
//             takes a process whose ahead-of-time part may not have finished, or spawns
//             its own).
// The wall time of a start ends with on_exit, which comes with gaffer-init's last frame;
// gaffer-init's exit and the cgroup's removal follow, untimed but waited for (and their
// CPU counted) before the next contender runs.
//   no_pool   init_pool_size = 0: gafferd spawns gaffer-init for every start, as when a
//             burst has emptied the pool.
// CPU figures are per environment and include the pool's refill (the gaffer-init reaped
// in an iteration is the one started for an earlier one: in steady state that evens out).
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "bench/bench_stats.hpp"
#include "bench/cold_start_baselines.hpp"
#include "coordinator/loop/loop.hpp"
#include "tasks/environment/environment.hpp"
#include "tasks/manifest/manifest.hpp"

using namespace gaffer;
using namespace gaffer::bench;

namespace {
class UntilExit final : public scheduler::EnvironmentEvents {
public:
    explicit UntilExit(loop::Loop& loop) : loop_(loop) {}
    void on_ready(scheduler::EnvId) override {}
    void on_result(scheduler::EnvId, scheduler::Outcome) override {}
    void on_exit(scheduler::EnvId, scheduler::ExitInfo info) override {
        ok = info.reason == scheduler::ExitInfo::Reason::exited && info.code == 0;
        detail = info.detail;
        loop_.stop();
    }
    bool ok = false;
    std::string detail;

private:
    loop::Loop& loop_;
};

struct Contender {
    std::unique_ptr<environment::EnvironmentManager> manager;
    std::size_t pool = 0;
    Samples wall, cpu;
};

std::unique_ptr<environment::EnvironmentManager> open_manager(loop::Loop& loop, const std::string& init,
                                                              const std::string& dir, const std::string& parent,
                                                              std::size_t pool) {
    environment::EnvironmentSettings settings;
    settings.init_path = init;
    settings.cgroup_parent = parent;
    settings.log_dir = dir + "/logs";
    settings.state_dir = dir + "/state";
    settings.default_user = "nobody";
    settings.init_pool_size = pool;
    auto manager = environment::EnvironmentManager::open(loop, settings);
    if (!manager) {
        std::fprintf(stderr, "cold_start: %s\n", manager.error().message.c_str());
        std::exit(1);
    }
    return std::move(*manager);
}

// Waiting gaffer-inits whose ahead-of-time part is done: their PID 1 (in the cgroup it
// waits in with its outer process) has built the task-independent root and blocks reading
// the launch frame on fd 3 (/proc/PID/syscall: the syscall's number, then its arguments in
// hex). Called when no environment runs: every cgroup below the parent is a waiting one.
constexpr long kReadSyscall = SYS_read;
std::size_t pool_ready(const environment::EnvironmentManager& manager) {
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(manager.cgroup_tree().parent_dirs().front())) {
        if (!entry.is_directory()) continue;
        std::ifstream in(entry.path() / "cgroup.procs");
        for (long pid; in >> pid;) {
            std::ifstream call("/proc/" + std::to_string(pid) + "/syscall");
            long number = -1;
            std::string fd;
            call >> number >> fd;
            if (number == kReadSyscall && fd == "0x3") ++n;
        }
    }
    return n;
}

// Runs the loop until the pool is full and every waiting gaffer-init is ready (untimed).
void settle(loop::Loop& loop, const Contender& c) {
    for (int i = 0; i < 500; ++i) {
        if (c.manager->init_pool_waiting() == c.pool && pool_ready(*c.manager) == c.pool) return;
        loop::Timer tick(loop);
        // Coarse: the pool refills 20 ms after a take, and this polling counts in the CPU figure.
        tick.start(std::chrono::milliseconds(2), [&] { loop.stop(); });
        loop.run();
    }
    std::fprintf(stderr, "cold_start: the warm pool did not refill within 1 s\n");
    std::exit(1);
}

// Environment cgroups still below the contender's parent (each is removed once its
// gaffer-init has been reaped), not counting those the waiting gaffer-inits are in.
std::size_t environments_left(const Contender& c) {
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(c.manager->cgroup_tree().parent_dirs().front()))
        if (entry.is_directory()) ++n;
    return n - c.manager->init_pool_waiting();
}

// One environment running /bin/true to completion; microseconds, or exits on failure.
double start_once(loop::Loop& loop, Contender& c, const manifest::Manifest& task, UntilExit& events) {
    auto start = Clock::now();
    if (auto env = c.manager->start(task, events); !env) {
        std::fprintf(stderr, "cold_start: %s\n", env.error().message.c_str());
        std::exit(1);
    }
    loop.run();
    double us = micros_since(start);
    if (!events.ok) {
        std::fprintf(stderr, "cold_start: environment failed: %s\n", events.detail.c_str());
        std::exit(1);
    }
    // The outcome comes with gaffer-init's last frame; its exit and the cgroup's removal
    // follow. Untimed, but waited for: their CPU (counted when the process is reaped)
    // belongs to this start, and they must not run into the next contender's.
    for (int i = 0; i < 1000 && environments_left(c); ++i) {
        loop::Timer tick(loop);
        tick.start(std::chrono::microseconds(100), [&] { loop.stop(); });
        loop.run();
    }
    return us;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: cold_start GAFFER_INIT [ITERATIONS]\n");
        return 2;
    }
    int iterations = argc > 2 ? std::atoi(argv[2]) : 200;
    char dir_template[] = "/tmp/gaffer-bench-XXXXXX";
    std::string dir = ::mkdtemp(dir_template);
    ::chmod(dir.c_str(), 0755);

    loop::Loop loop;
    Contender pool, burst, cold;
    pool.pool = 2;
    pool.manager = open_manager(loop, argv[1], dir, "gaffer-bench", pool.pool);
    cold.manager = open_manager(loop, argv[1], dir, "gaffer-bench-cold", 0);
    manifest::Manifest task;
    task.name = "bench-true";
    task.version = "1";
    task.owner = "bench";
    task.command = {"/bin/true"};
    task.artifact_dir = dir;
    task.mode = manifest::Mode::long_lived;
    task.interface = manifest::Interface::process;

    Samples bare, bwrap, bare_cpu, bwrap_cpu;
    UntilExit events(loop);
    for (int i = 0; i < iterations + 10; ++i) {
        // Interleaved so that machine noise hits every contender alike.
        settle(loop, pool);
        double cpu = cpu_micros();
        double us = start_once(loop, pool, task, events);
        settle(loop, pool);  // the refill's cost belongs to this environment
        if (i >= 10) {
            pool.wall.values.push_back(us);
            pool.cpu.values.push_back(cpu_micros() - cpu);
        }
        cpu = cpu_micros();
        us = start_once(loop, cold, task, events);
        if (i >= 10) {
            cold.wall.values.push_back(us);
            cold.cpu.values.push_back(cpu_micros() - cpu);
        }
        if (i < 10) continue;
        cpu = cpu_micros();
        bare.values.push_back(bare_clone_once());
        bare_cpu.values.push_back(cpu_micros() - cpu);
        if (i % 4 != 0) continue;
        cpu = cpu_micros();
        bwrap.values.push_back(bwrap_once());
        bwrap_cpu.values.push_back(cpu_micros() - cpu);
    }
    // Back to back: nothing waits for the refill.
    settle(loop, pool);
    for (int i = 0; i < iterations; ++i) burst.wall.values.push_back(start_once(loop, pool, task, events));

    double g = pool.wall.percentile(50), b = bare.percentile(50), w = bwrap.percentile(50);
    report("cold_start_gaffer_pool_p50", g, "us (warm pool refilled between starts)");
    report("cold_start_gaffer_burst_p50", burst.wall.percentile(50), "us (back to back, pool refilling)");
    report("cold_start_gaffer_no_pool_p50", cold.wall.percentile(50), "us (init_pool_size 0 / pool empty)");
    report("cold_start_bare_clone_p50", b, "us");
    report("cold_start_bwrap_p50", w, "us");
    report("cold_start_gaffer_vs_bare", g / b, "x (target <= 2)");
    report("cold_start_bwrap_vs_gaffer", w / g, "x (target >= 3)");
    report("cold_start_no_pool_vs_bare", cold.wall.percentile(50) / b, "x");
    report("cold_start_gaffer_pool_cpu_p50", pool.cpu.percentile(50), "us (incl. the refill)");
    report("cold_start_gaffer_no_pool_cpu_p50", cold.cpu.percentile(50), "us");
    report("cold_start_bare_clone_cpu_p50", bare_cpu.percentile(50), "us");
    report("cold_start_bwrap_cpu_p50", bwrap_cpu.percentile(50), "us");
    pool.manager.reset();
    cold.manager.reset();
    std::string rm = "rm -rf " + dir;
    return std::system(rm.c_str()) == 0 ? 0 : 1;
}
