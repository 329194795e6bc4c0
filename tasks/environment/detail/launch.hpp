// Private to gaffer::environment: from a manifest to what gaffer-init is told.
#pragma once

#include <sys/types.h>

#include <string>

#include "coordinator/base/base.hpp"
#include "tasks/environment/environment.hpp"
#include "tasks/manifest/manifest.hpp"
#include "tasks/runtime/runtime.hpp"

namespace gaffer::environment::detail {

struct Identity {
    uid_t uid = 65534;
    gid_t gid = 65534;
};

// The manifest's user (name or number; default_user when empty) and group (name or
// number; empty: the user's primary group, or gid = uid for an unknown numeric user).
// Errors: not_found (no such user/group), denied (uid 0 while allow_root is false).
base::Result<Identity> resolve_identity(const manifest::Manifest& task,
                                        const std::string& default_user, bool allow_root);

// The launch frame's header for one environment.
runtime::LaunchSpec make_launch_spec(const manifest::Manifest& task, const Identity& identity,
                                     const EnvironmentSettings& settings,
                                     const std::vector<std::string>& cgroup_procs);

// CgroupLimits from the manifest's limits.
CgroupLimits limits_of(const manifest::Manifest& task);

}  // namespace gaffer::environment::detail
