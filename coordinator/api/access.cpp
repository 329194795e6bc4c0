#include "coordinator/api/detail/access.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace gaffer::api::detail {

bool peer_allowed(const loop::PeerCredentials& peer, const AccessPolicy& policy,
                  const GroupsOf& groups_of) {
    if (peer.pid < 0) return false;  // SO_PEERCRED failed: nothing is known about the peer
    if (peer.uid == 0 || peer.uid == policy.daemon_uid) return true;
    if (policy.group == static_cast<gid_t>(-1)) return false;
    if (peer.gid == policy.group) return true;
    auto groups = groups_of(peer.pid);
    if (!groups) return false;
    return std::find(groups->begin(), groups->end(), policy.group) != groups->end();
}

std::optional<std::vector<gid_t>> parse_status_groups(std::string_view text) {
    constexpr std::string_view key = "Groups:";
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        std::string_view line = text.substr(at, end - at);
        at = end + 1;
        if (line.substr(0, key.size()) != key) continue;
        line.remove_prefix(key.size());
        std::vector<gid_t> groups;
        while (true) {
            while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
            if (line.empty()) return groups;
            unsigned long value = 0;
            auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), value);
            if (ec != std::errc{} || value > static_cast<gid_t>(-1)) return std::nullopt;
            groups.push_back(static_cast<gid_t>(value));
            line.remove_prefix(static_cast<std::size_t>(ptr - line.data()));
            if (!line.empty() && line.front() != ' ' && line.front() != '\t') return std::nullopt;
        }
    }
    return std::nullopt;
}

base::Result<std::vector<gid_t>> proc_supplementary_groups(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/status";
    auto text = base::read_file(path);
    if (!text) return base::fail(base::Errc::unavailable, text.error().message);
    auto groups = parse_status_groups(*text);
    if (!groups) return base::fail(base::Errc::io, path + ": no readable Groups: line");
    return *groups;
}

}  // namespace gaffer::api::detail
