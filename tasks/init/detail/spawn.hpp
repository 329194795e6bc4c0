// Starting the task's processes: argv/envp are prepared once (ExecPlan), then each spawn
// clones a child that shares PID 1's memory until execve (vfork-style), drops every
// privilege in it and execs. Between clone and exec the child makes only async-signal-safe
// calls.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "coordinator/base/base.hpp"
#include "tasks/runtime/runtime.hpp"

namespace gaffer::init {

class ExecPlan {
public:
    // The environment: spec.environment, then for lambda tasks the AWS variables (which
    // win), then PATH and HOME when the spec does not set them. `api_port` is the runtime
    // API's bound port (lambda only).
    static ExecPlan make(const runtime::LaunchSpec& spec, std::uint16_t api_port);

    const std::string& program() const { return program_; }

private:
    friend struct Spawner;
    std::string program_;  // resolved: absolute, else /task/<cmd> if it exists, else PATH lookup
    std::vector<std::string> args_, env_;
    std::vector<char*> argv_, envp_;
    std::string working_dir_;
    uid_t uid_ = 65534;
    gid_t gid_ = 65534;
};

struct TaskProcess {
    pid_t pid = -1;
    base::Fd stdin_w;   // only when asked for; else the task's stdin is /dev/null
    base::Fd stdout_r;  // non-blocking
    base::Fd stderr_r;  // non-blocking
};

// Empties PID 1's capability bounding set, which every task process inherits: no execve
// can gain a capability after that. PID 1 keeps its own capabilities (it never execs), so
// this runs once, ahead of time, instead of in every spawned child. Errors: io.
base::Result<void> drop_bounding_capabilities();

// Forks and execs the plan (requires drop_bounding_capabilities() first). Errors: the exec (or a privilege step) failed in the child; the
// message names the step and the program, e.g. "execve /task/bootstrap: Permission denied".
base::Result<TaskProcess> spawn(const ExecPlan& plan, bool pipe_stdin);

}  // namespace gaffer::init
