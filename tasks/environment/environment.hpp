// gaffer::environment — execution environments on the gafferd side: the cgroups that
// bound them (v1 and v2) and the EnvironmentManager that implements the scheduler's
// Environments port by spawning gaffer-init and talking to it over the control channel.
//
// Threading: CgroupTree and Cgroup are plain synchronous objects (any one thread at a
// time). EnvironmentManager is loop-thread only, like every port of the scheduler.
// Nothing here logs: messages from gaffer-init and clean-up problems go to the
// `on_log` callback of EnvironmentSettings.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/base.hpp"
#include "coordinator/scheduler/scheduler.hpp"
#include "tasks/runtime/runtime.hpp"

namespace gaffer::loop {
class Loop;
}

namespace gaffer::environment {

namespace detail {
class WarmPool;
}

// ---- Cgroups ---------------------------------------------------------------------------

enum class CgroupVersion { v1, v2 };

// One mounted cgroup hierarchy that holds controllers we use.
struct Hierarchy {
    std::vector<std::string> controllers;  // v1: e.g. {"memory"}; v2: {"memory","cpu","pids"}
    std::string mount;                     // mount point, e.g. /sys/fs/cgroup/memory
    std::string own;                       // the daemon's cgroup below `mount`, "" = the root
};

// Where the memory, cpu and pids controllers live. Pure v2: one hierarchy (the cgroup2
// mount, with those controllers in its cgroup.controllers). v1 or hybrid: one hierarchy
// per v1 mount holding one of them (co-mounted controllers share one entry).
struct CgroupLayout {
    CgroupVersion version = CgroupVersion::v2;
    std::vector<Hierarchy> hierarchies;
};

// The filesystem seen through cgroup eyes. The default talks to the kernel; unit tests
// derive from it to run the same code against a fake cgroupfs in a temporary directory.
class CgroupFs {
public:
    virtual ~CgroupFs() = default;
    virtual base::Result<std::string> read(const std::string& path);
    // Writes an existing file (no O_CREAT: cgroupfs files are made by the kernel).
    virtual base::Result<void> write(const std::string& path, std::string_view value);
    virtual bool exists(const std::string& path);
    virtual base::Result<void> make_dir(const std::string& path);   // EEXIST is success
    virtual base::Result<void> remove_dir(const std::string& path); // ENOENT is success
    virtual base::Result<std::vector<std::string>> list_dirs(const std::string& path);
    virtual base::Result<void> kill(pid_t pid, int signum);          // ESRCH is success
    // An exclusive flock on a directory, held while the Fd lives. Errors: busy (another
    // holder), io.
    virtual base::Result<base::Fd> lock_dir(const std::string& path);
};

CgroupFs& system_cgroup_fs();

// Parses /proc/self/mountinfo and /proc/self/cgroup text into a layout. `fs` is asked
// for the cgroup2 mount's cgroup.controllers. Errors: unavailable (a controller is not
// mounted anywhere), invalid (unparsable text).
base::Result<CgroupLayout> detect_layout(std::string_view mountinfo, std::string_view self_cgroup,
                                         CgroupFs& fs);
base::Result<CgroupLayout> detect_layout();  // this process, the real filesystem

struct CgroupLimits {
    std::uint64_t memory_bytes = 64ull << 20;
    std::uint32_t cpu_millis = 1000;  // thousandths of a CPU; 0: no CPU limit
    std::uint32_t pids = 64;          // 0: no pids limit
};

// Counters of one cgroup. Missing files (old kernels) read as 0.
struct CgroupStats {
    std::uint64_t oom_kills = 0;       // v2 memory.events oom_kill; v1 memory.oom_control oom_kill
    std::uint64_t pids_max_hits = 0;   // pids.events max: forks refused by pids.max
    std::uint64_t nr_throttled = 0;    // cpu.stat
    std::uint64_t throttled_usec = 0;  // v2 throttled_usec; v1 throttled_time / 1000
    std::uint64_t memory_current = 0;  // bytes
    std::uint64_t memory_peak = 0;     // bytes (v2 memory.peak needs kernel 5.19)
    std::size_t processes = 0;
};

// One environment's cgroup (one directory per hierarchy). Move-only. The destructor does
// not touch the kernel: call remove() (the owner decides when the processes may die).
class Cgroup {
public:
    Cgroup(Cgroup&&) noexcept = default;
    Cgroup& operator=(Cgroup&&) noexcept = default;
    ~Cgroup() = default;

    const std::string& name() const { return name_; }
    const CgroupLimits& limits() const { return limits_; }
    const std::vector<std::string>& dirs() const { return dirs_; }
    // cgroup.procs of every directory: what gaffer-init writes its own pid into.
    std::vector<std::string> procs_files() const;

    base::Result<std::vector<pid_t>> pids() const;  // union over the hierarchies
    base::Result<CgroupStats> stats() const;
    // Writes new limits (memory, CPU, pids) over the current ones: what a warm pool's
    // cgroup, made before its task was known, gets when it is handed to one. Errors: io
    // (v1 refuses a memory limit below what the cgroup uses already: busy).
    base::Result<void> set_limits(const CgroupLimits& limits);
    // stats().oom_kills alone, from one file (what the manager checks after every result
    // and at exit); 0 when unreadable.
    std::uint64_t oom_kills() const;
    // SIGKILLs every process until the cgroup is empty (v2: cgroup.kill when the kernel
    // has it). Errors: timeout when processes remain after ~2 s.
    base::Result<void> kill();
    // Removes every directory. An empty cgroup (the usual case: its last process has been
    // reaped) goes with one rmdir per directory; one the kernel refuses (processes or
    // child cgroups left) is kill()ed and removed depth first, retrying EBUSY briefly.
    // Idempotent.
    base::Result<void> remove();

private:
    friend class CgroupTree;
    Cgroup() = default;
    CgroupFs* fs_ = nullptr;
    CgroupVersion version_ = CgroupVersion::v2;
    std::string name_;
    CgroupLimits limits_;
    bool swap_max_ = false;                      // v2: the kernel has memory.swap.max
    std::vector<std::string> dirs_;              // one per hierarchy
    std::map<std::string, std::string> dir_of_;  // controller -> directory
};

struct CgroupTreeOptions {
    std::string parent = "gaffer";  // below the daemon's own cgroup
    // libcgroup creates the environment cgroups' directories (their limits are written
    // with plain file I/O either way). Off: plain mkdir (unit tests, whose fake cgroupfs
    // libcgroup cannot see).
    bool use_libcgroup = true;
};

// The daemon's subtree of environment cgroups: <own>/<parent>/<name> in every hierarchy.
class CgroupTree {
public:
    // Makes <own>/<parent> ready and locks it (flock) for the tree's lifetime, so that a
    // second daemon configured with the same parent fails here (busy) instead of killing
    // the first one's environments in cleanup_stale(). On v2 below a non-root cgroup this first moves the
    // daemon into the leaf <own>/gafferd (the "no internal processes" rule) and enables
    // memory, cpu and pids in subtree_control along the way. Errors: unavailable (a
    // controller is not delegated to us), busy (parent in use), io, invalid (bad name).
    static base::Result<CgroupTree> open(CgroupLayout layout, CgroupTreeOptions options,
                                         CgroupFs& fs = system_cgroup_fs());

    // Creates <own>/<parent>/<name> with the limits. Errors: conflict (exists), io.
    base::Result<Cgroup> create(std::string_view name, const CgroupLimits& limits);

    // Kills and removes every cgroup under <parent> (left behind by a crashed daemon).
    // Returns how many were removed.
    base::Result<std::size_t> cleanup_stale();

    const CgroupLayout& layout() const { return layout_; }
    // <mount>/<own>/<parent> per hierarchy.
    const std::vector<std::string>& parent_dirs() const { return parent_dirs_; }

    // At shutdown, once every cgroup below is gone: releases the locks and removes the
    // directories open() created, deepest first (best effort). Directories that existed
    // before, such as a parent the administrator made and configured, stay.
    void remove_created_dirs();

private:
    CgroupTree() = default;
    CgroupLayout layout_;
    CgroupTreeOptions options_;
    CgroupFs* fs_ = nullptr;
    std::vector<std::string> parent_dirs_;  // one per hierarchy
    std::vector<std::string> parent_rel_;   // the same, relative to the mount
    std::vector<base::Fd> locks_;           // one per parent dir
    std::vector<std::string> created_dirs_; // by open(), in the order made
};

// ---- Environments ----------------------------------------------------------------------

// A task's call of the device services (shadows, publish; see runtime.hpp "Device
// services"), relayed by its gaffer-init. The request is well-formed as far as gaffer-init
// can tell (route, names, qos, sizes); topics, routes and documents are the daemon's to check.
struct ServiceCall {
    scheduler::EnvId env = 0;
    std::string task;                 // the calling task: the source endpoint task:<task>
    runtime::ServiceRequest request;  // request.id is the environment's own numbering
    std::string body;                 // shadow update document or MQTT payload; else empty
};

// The answer to one ServiceCall: the HTTP status (200..599) and JSON body the task gets.
// Call it on the loop thread, at most once, now or later. It does nothing when the
// environment (or the manager) is gone by then, or once gaffer-init answered the task 504
// (LaunchSpec::service_timeout_ms). A status outside 200..599 or a body over
// runtime::kMaxServiceBody becomes a 500 for the task.
using ServiceReply = std::function<void(int status, std::string body)>;

struct EnvironmentSettings {
    std::string init_path;                  // the gaffer-init executable
    std::string cgroup_parent = "gaffer";   // below the daemon's own cgroup
    std::string log_dir;                    // task output: <log_dir>/<task>.log (created)
    std::uint64_t log_max_bytes = 1u << 20;
    std::uint32_t log_keep = 3;
    std::string state_dir;                  // hidden from tasks
    std::string tasks_root;                 // hidden from tasks ("" = none)
    bool allow_root_tasks = false;          // else a task resolving to uid 0 is refused
    std::string default_user = "gaffer-task";  // when a manifest names no user
    std::uint16_t runtime_api_port = 9001;  // Runtime API port with network "none"; host
                                            // network always gets 0 (a free port)
    bool use_libcgroup = true;              // see CgroupTreeOptions
    // Moving a process into a cgroup (what gaffer-init does first) takes a global kernel
    // lock whose write side waits for an RCU grace period, 8-20 ms on an otherwise idle
    // gateway, unless the cgroup2 mount has the `favordynmods` option (Linux >= 6.0).
    // When true, open() remounts the cgroup2 mount with it (keeping its other options)
    // if it is not set, and says so through on_log. The price is paid machine-wide:
    // fork() and exit() become slightly slower for every process. Without a cgroup2
    // mount or on an older kernel this logs a warning and changes nothing.
    bool favor_dynamic_cgroups = true;
    // gaffer-init processes started ahead of time, waiting for a task (the warm pool): a
    // start takes one, which saves forking the daemon, exec'ing gaffer-init and making its
    // PID, IPC and UTS namespaces while the caller waits; the pool refills on the next loop
    // turn. Each waiting one is two idle processes (a few hundred KB) in the pool's own
    // cgroup. 0: no pool (every start spawns gaffer-init). At most 16.
    std::size_t init_pool_size = 2;
    // After gaffer-init exited (or closed the channel), how long to wait for the other
    // half before finishing anyway.
    base::Duration exit_linger = std::chrono::seconds(1);
    // Lines gaffer-init logs about itself (level "debug".."error"), clean-up problems
    // ("warning") and, with EnvId 0, what open() changed or could not change about the
    // host (favordynmods). Empty: dropped.
    std::function<void(scheduler::EnvId, std::string_view level, std::string_view line)> on_log;
    // Device-service calls from tasks, on the loop thread. Empty: every call is answered
    // 503 {"error": "unavailable", "message": "devices are not enabled on this gateway"}.
    std::function<void(const ServiceCall& call, ServiceReply reply)> on_service_request;
};

// For `gaffer env list` and /metrics.
struct EnvironmentStatus {
    scheduler::EnvId id = 0;
    std::string task;
    pid_t pid = -1;  // gaffer-init's outer process
    std::optional<CgroupStats> cgroup;  // empty when the cgroup cannot be read
};

// The Environments port, for real: one cgroup plus one gaffer-init per environment.
// start() takes a gaffer-init from the warm pool, waiting in its cgroup (env-<id>), and
// writes the manifest's limits there, or, with the pool empty, creates the cgroup and
// spawns gaffer-init with the control channel as fd 3; then it sends the launch frame.
// Frames from gaffer-init become EnvironmentEvents calls. The environment ends (exactly
// one on_exit) with gaffer-init's `exited` frame, its last word, or else once gaffer-init
// has exited and its channel has closed. After an exited frame, gaffer-init's own exit (the namespaces' teardown, about
// half a millisecond) and the removal of the cgroup follow on later loop turns, off the
// path of whoever waits for the outcome; the destructor finishes any still pending.
class EnvironmentManager final : public scheduler::Environments {
public:
    // Detects the cgroup layout, sets favordynmods (see favor_dynamic_cgroups), opens the
    // tree, removes stale environment cgroups and creates log_dir. Errors: those of
    // detect_layout/CgroupTree::open, io.
    static base::Result<std::unique_ptr<EnvironmentManager>> open(loop::Loop& loop,
                                                                  EnvironmentSettings settings);
    EnvironmentManager(loop::Loop& loop, EnvironmentSettings settings, CgroupTree tree);
    // Kills every environment and removes its cgroup, synchronously; no on_exit calls.
    ~EnvironmentManager() override;
    EnvironmentManager(const EnvironmentManager&) = delete;
    EnvironmentManager& operator=(const EnvironmentManager&) = delete;

    // Errors: not_found (user or group unknown), denied (uid 0 without
    // allow_root_tasks), conflict/io (cgroup), io (socketpair, spawn).
    base::Result<scheduler::EnvId> start(const manifest::Manifest& task,
                                         scheduler::EnvironmentEvents& events) override;
    // Sends an invoke frame; deadline = now + the task's timeout (wall clock, epoch ms).
    // An unknown environment is ignored (its on_exit has been delivered already).
    void invoke(scheduler::EnvId env, const scheduler::Invocation& invocation) override;
    // Sends shutdown {grace_ms}; gaffer-init and the cgroup are killed if it has not
    // exited after grace + 1 s.
    void stop(scheduler::EnvId env, base::Duration grace) override;

    std::vector<EnvironmentStatus> list() const;
    std::size_t stale_removed() const { return stale_removed_; }
    // gaffer-init processes waiting in the warm pool now (see init_pool_size).
    std::size_t init_pool_waiting() const;
    const CgroupTree& cgroup_tree() const { return tree_; }

private:
    struct Env;
    void on_frame(Env& env, std::string_view bytes);
    void handle(Env& env, int type, std::string header, std::string payload);
    void serve(Env& env, const std::string& header, std::string payload);
    void reply(Env& env, std::uint64_t request_id, int status, std::string body);
    void maybe_finish(scheduler::EnvId id);
    void finish(scheduler::EnvId id);
    void report_exit(Env& env);
    scheduler::ExitInfo exit_info(Env& env);
    void log(scheduler::EnvId id, std::string_view level, std::string_view line) const;

    loop::Loop& loop_;
    EnvironmentSettings settings_;
    CgroupTree tree_;
    std::size_t stale_removed_ = 0;
    std::unique_ptr<detail::WarmPool> pool_;
    scheduler::EnvId next_id_ = 1;
    std::map<scheduler::EnvId, std::unique_ptr<Env>> envs_;
    // ServiceReply functions hold a weak reference: they may outlive the manager.
    std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
};

}  // namespace gaffer::environment
