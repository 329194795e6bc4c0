// What the task sees: gaffer-init builds it in PID 1 of the new namespaces, as root, before
// the task starts. Every step is done in the private mount namespace; nothing on the host
// changes (no directory is created outside the new root's tmpfs).
#pragma once

#include <sys/types.h>

#include "coordinator/base/base.hpp"
#include "tasks/runtime/runtime.hpp"

namespace gaffer::init {

// The new root: a read-only tmpfs holding read-only binds of the host's top-level
// directories, fresh /proc, a minimal /dev, private /tmp, /run and /dev/shm, the artifact
// at /task, the declared resources, and empty read-only tmpfs over spec.hidden_paths,
// entered with pivot_root. It is built in two steps so that a pooled gaffer-init does the
// first before it has a task:
//   prepare_root()     everything that does not depend on the task, pivot_root included,
//                      in the mount namespace the caller has just unshared;
//   finish_root(spec)  the task's part: /tmp and /dev/shm sized by its memory limit, /task,
//                      resources, hidden paths, then /dev and the root made read-only.
// The old root stays mounted at /.oldroot (a mode-0 directory no capability-less process
// can enter) until detach_old_root(). The host's mounts are those of the moment
// prepare_root() ran: gafferd discards pooled processes when its mount table changes.
// Errors name the path and the step.
base::Result<void> prepare_root();
base::Result<void> finish_root(const runtime::LaunchSpec& spec);

// A host path as seen from the new root before detach_old_root().
std::string host_path(const std::string& path);

// Detaches the old root (lazy unmount) of the caller's mount namespace, whose root
// prepare_root() has pivoted (pivot_root moves every process of the namespace that had the
// old root). The unmount waits for an expedited RCU grace period, so the outer gaffer-init
// process, otherwise idle, does it while PID 1 goes on to start the task; the task cannot
// reach the old root meanwhile.
base::Result<void> detach_old_root();

// sethostname in the new UTS namespace.
base::Result<void> set_hostname(const std::string& name);

// Brings up `lo` in a new network namespace so that 127.0.0.1 works.
base::Result<void> bring_up_loopback();

}  // namespace gaffer::init
