// Who may talk to the API socket. Pure decisions, plus the /proc reader they need.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "coordinator/base/base.hpp"
#include "coordinator/loop/loop.hpp"

namespace gaffer::api::detail {

struct AccessPolicy {
    uid_t daemon_uid = 0;
    gid_t group = static_cast<gid_t>(-1);  // -1: no group admitted
};

// The supplementary groups of a process. Errors: unavailable (gone), io.
using GroupsOf = std::function<base::Result<std::vector<gid_t>>(pid_t)>;

// Root and the daemon's uid always; otherwise the peer's gid or one of its supplementary
// groups must be policy.group. A peer whose groups cannot be read is refused.
bool peer_allowed(const loop::PeerCredentials& peer, const AccessPolicy& policy,
                  const GroupsOf& groups_of);

// The "Groups:" line of /proc/<pid>/status; nullopt when missing or malformed.
std::optional<std::vector<gid_t>> parse_status_groups(std::string_view status_text);

// Reads /proc/<pid>/status. SO_PEERCRED gives the pid at connect time; a peer that exited
// since has no such file, and its connection is refused.
base::Result<std::vector<gid_t>> proc_supplementary_groups(pid_t pid);

}  // namespace gaffer::api::detail
