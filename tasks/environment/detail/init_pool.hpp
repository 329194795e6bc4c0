// Private to gaffer::environment: the warm pool of gaffer-init processes.
//
// Starting gaffer-init costs gafferd a fork of the whole daemon (libuv's uv_spawn) and
// gaffer-init its exec, its start-up page faults, three namespaces and the fork of PID 1,
// none of which depends on the task; making the environment's cgroup (three directories
// through libcgroup on a v1 gateway) and moving both processes into it does not depend on
// it either. The pool does all that ahead of time: it keeps `size` gaffer-init processes
// waiting for their launch frame (see tasks/init/main.cpp), each already in the cgroup of
// the environment it is going to be, hands one out per environment and starts its
// replacement after the start that took it. A waiting process holds nothing of any task:
// it is specialised only by its cgroup's limits and the launch frame, once, and each one
// serves one environment.
//
// Threading: loop thread only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/base.hpp"
#include "coordinator/scheduler/scheduler.hpp"
#include "tasks/environment/environment.hpp"

namespace gaffer::loop {
class Loop;
class PriorityWatch;
class Process;
class Stream;
class Timer;
}  // namespace gaffer::loop

namespace gaffer::environment::detail {

// Where a gaffer-init's exit goes. The owner of the process (the pool while it waits, then
// its environment) sets `fn`; the exit is dropped while it is empty.
struct ExitRoute {
    std::function<void(std::int64_t exit_status, int term_signal)> fn;
};

// The name of an environment's cgroup below the environments' parent.
inline std::string cgroup_name(scheduler::EnvId id) { return "env-" + std::to_string(id); }

// One started gaffer-init that has no task yet.
struct InitProcess {
    pid_t pid = -1;
    std::unique_ptr<loop::Process> process;  // null for fakes in unit tests
    std::unique_ptr<loop::Stream> stream;    // gafferd's end of fd 3, not read from yet
    std::shared_ptr<ExitRoute> exit_route = std::make_shared<ExitRoute>();
    // Pooled: the cgroup of the environment-to-be (cgroup_name(env_id), waiting limits),
    // which both processes entered at start-up, and the EnvId reserved for it. Else empty
    // and 0: the environment's cgroup is made at start, and entered with the launch frame.
    std::optional<Cgroup> cgroup;
    scheduler::EnvId env_id = 0;

    InitProcess();
    InitProcess(InitProcess&&) noexcept;
    InitProcess& operator=(InitProcess&&) noexcept;
    ~InitProcess();  // does not kill (see loop::Process); the route stops mattering
};

// Starts gaffer-init processes. A port, so the pool's rules are tested with fakes.
class InitLauncher {
public:
    virtual ~InitLauncher() = default;
    // pooled: the process is going to wait in the pool, in a cgroup of its own (see
    // InitProcess); otherwise it gets its launch frame at once and waits in gafferd's cgroup
    // for the few moments until then. Errors: io (socketpair, spawn, cgroup), with the
    // program's path or the cgroup in the message.
    virtual base::Result<InitProcess> launch(bool pooled) = 0;
    // True once the process has exited, even when its exit has not been reported yet.
    virtual bool has_exited(const InitProcess& init) = 0;
    // SIGKILL; its PID 1 follows (PR_SET_PDEATHSIG), the stream is closed and the cgroup,
    // if any, removed.
    virtual void kill(InitProcess& init) = 0;
};

// The real launcher: loop::Process (uv_spawn) with fd 3 = one end of a socketpair and, for
// pooled processes, a cgroup made in `tree` with an EnvId from `reserve_id` and passed as
// `--pool-cgroup FILE` per cgroup.procs file. A cgroup kill() cannot remove goes to
// `on_warning`.
class SpawnLauncher final : public InitLauncher {
public:
    SpawnLauncher(loop::Loop& loop, std::string init_path, CgroupTree& tree,
                  std::function<scheduler::EnvId()> reserve_id, std::function<void(std::string_view)> on_warning)
        : loop_(loop), init_path_(std::move(init_path)), tree_(tree), reserve_id_(std::move(reserve_id)),
          on_warning_(std::move(on_warning)) {}
    base::Result<InitProcess> launch(bool pooled) override;
    bool has_exited(const InitProcess& init) override;
    void kill(InitProcess& init) override;

private:
    loop::Loop& loop_;
    std::string init_path_;
    CgroupTree& tree_;
    std::function<scheduler::EnvId()> reserve_id_;
    std::function<void(std::string_view)> on_warning_;
};

struct InitPoolOptions {
    std::size_t size = 2;  // processes kept waiting; 0: none (every take() launches)
    // From a take() that leaves a process waiting to the start of the refill; later takes do
    // not postpone it. A take() that empties the pool (a burst) starts the refill on the
    // next loop turn instead. The wait keeps the refill's fork, exec and root preparation
    // (2-3 ms of CPU) off the environment being built: on a 2-core gateway a start from
    // the pool took 2.7 ms with it and 3.4 ms without (bench/cold_start, pool mode).
    base::Duration refill_after = std::chrono::milliseconds(20);
    // After a launch failed or a waiting process died: wait this long before starting
    // another, so that a broken gaffer-init does not turn into a fork loop.
    base::Duration retry_after = std::chrono::seconds(1);
    // After a flush: a burst of mount changes (a host mounting a dozen filesystems) costs
    // one refill, not one per change.
    base::Duration flush_refill_after = std::chrono::milliseconds(100);
    std::function<void(std::string_view warning)> on_warning;  // empty: dropped
};

class InitPool {
public:
    // Starts filling on the next loop turn (not inside the constructor).
    InitPool(loop::Loop& loop, InitLauncher& launcher, InitPoolOptions options);
    // Kills every waiting process; their exits are dropped (libuv still reaps them).
    ~InitPool();
    InitPool(const InitPool&) = delete;
    InitPool& operator=(const InitPool&) = delete;

    // The oldest waiting process that is still alive, or else one launched now. The
    // returned process's exit route is empty. Schedules the refill (refill_after).
    // Errors: those of InitLauncher::launch.
    base::Result<InitProcess> take();

    std::size_t waiting() const { return waiting_.size(); }
    std::size_t size() const { return options_.size; }
    // Launches until `size` processes wait, or a launch fails (then retries later).
    void fill();
    // Kills every waiting process and starts their replacements after flush_refill_after:
    // they have copied a mount table that has changed since (see tasks/init/main.cpp).
    void flush();

private:
    struct Member {
        std::uint64_t serial = 0;
        InitProcess init;
    };
    void schedule_fill(base::Duration after, bool retry = false);  // retry: after a failure
    void schedule_refill();  // after a take()
    void on_member_exit(std::uint64_t serial, std::int64_t status, int signal);
    void warn(std::string_view text) const;

    loop::Loop& loop_;
    InitLauncher& launcher_;
    InitPoolOptions options_;
    std::deque<Member> waiting_;
    std::uint64_t next_serial_ = 1;
    std::unique_ptr<loop::Timer> refill_;
    bool fill_pending_ = false;  // the refill timer is armed
    bool retrying_ = false;      // ... for retry_after: an empty pool does not hasten it
};

// What the EnvironmentManager holds: the real launcher, the pool, and a watch on gafferd's
// mount table that flushes the pool when the table changes (no watch, no pool: a waiting
// process would hand a task a stale copy of the host's mounts). Each waiting gaffer-init
// waits in its environment's cgroup, <own>/<parent>/env-<id>, with kWaitingLimits; the
// start that takes it writes the task's limits there.
class WarmPool {
public:
    // size 0, or a mount table that cannot be watched (reported through on_warning): no
    // pool; take() launches every time.
    WarmPool(loop::Loop& loop, CgroupTree& tree, std::function<scheduler::EnvId()> reserve_id,
             const std::string& init_path, std::size_t size, std::function<void(std::string_view)> on_warning);
    // Kills the waiting processes and removes their cgroups, synchronously.
    ~WarmPool();
    WarmPool(const WarmPool&) = delete;
    WarmPool& operator=(const WarmPool&) = delete;

    base::Result<InitProcess> take() { return pool_->take(); }
    std::size_t waiting() const { return pool_->waiting(); }

private:
    base::Result<void> watch_mounts(loop::Loop& loop);

    base::Fd mountinfo_;
    std::unique_ptr<loop::PriorityWatch> mount_watch_;
    std::unique_ptr<SpawnLauncher> launcher_;
    std::unique_ptr<InitPool> pool_;
};

// The limits of a waiting process's cgroup until a start writes the task's: room for what
// gaffer-init touches while it waits (a few hundred KB), nothing else bounded.
inline constexpr CgroupLimits kWaitingLimits{32ull << 20, 0, 0};
// The most processes a pool keeps waiting.
inline constexpr std::size_t kMaxInitPool = 16;

}  // namespace gaffer::environment::detail
