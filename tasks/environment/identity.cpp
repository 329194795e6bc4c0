// User and group lookup with the reentrant NSS calls: the daemon's loop thread must not
// depend on static buffers another thread may be using.
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <vector>

#include "tasks/environment/detail/launch.hpp"

namespace gaffer::environment::detail {

namespace {

constexpr std::size_t kMaxNssBuffer = 1u << 20;

std::optional<std::uint32_t> numeric(const std::string& text) {
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// Calls fn(buffer, size, &found) with a growing buffer while it reports ERANGE.
template <class Fn>
int with_buffer(Fn fn) {
    long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(hint > 0 ? static_cast<std::size_t>(hint) : 4096);
    while (true) {
        int rc = fn(buffer.data(), buffer.size());
        if (rc != ERANGE || buffer.size() >= kMaxNssBuffer) return rc;
        buffer.resize(buffer.size() * 2);
    }
}

}  // namespace

base::Result<Identity> resolve_identity(const manifest::Manifest& task,
                                        const std::string& default_user, bool allow_root) {
    const std::string& user = task.user.empty() ? default_user : task.user;
    Identity id;
    std::optional<gid_t> primary;
    if (auto number = numeric(user)) {
        id.uid = *number;
        passwd pw{}, *found = nullptr;
        with_buffer([&](char* buf, std::size_t size) { return ::getpwuid_r(id.uid, &pw, buf, size, &found); });
        if (found) primary = found->pw_gid;
    } else {
        passwd pw{}, *found = nullptr;
        int rc = with_buffer([&](char* buf, std::size_t size) {
            return ::getpwnam_r(user.c_str(), &pw, buf, size, &found);
        });
        if (!found)
            return rc != 0 ? base::fail_errno(base::Errc::io, "task " + task.name + ": cannot look up user \"" + user + "\"", rc)
                           : base::fail(base::Errc::not_found,
                                        "task " + task.name + ": user \"" + user +
                                            "\" does not exist (create it, or set \"user\" in the manifest)");
        id.uid = found->pw_uid;
        primary = found->pw_gid;
    }

    if (task.group.empty()) {
        id.gid = primary.value_or(id.uid);
    } else if (auto number = numeric(task.group)) {
        id.gid = *number;
    } else {
        group gr{}, *found = nullptr;
        int rc = with_buffer([&](char* buf, std::size_t size) {
            return ::getgrnam_r(task.group.c_str(), &gr, buf, size, &found);
        });
        if (!found)
            return rc != 0 ? base::fail_errno(base::Errc::io, "task " + task.name + ": cannot look up group \"" + task.group + "\"", rc)
                           : base::fail(base::Errc::not_found,
                                        "task " + task.name + ": group \"" + task.group + "\" does not exist");
        id.gid = found->gr_gid;
    }

    if (id.uid == 0 && !allow_root)
        return base::fail(base::Errc::denied,
                          "task " + task.name + " would run as root (user \"" + user +
                              "\"); tasks run unprivileged unless allow_root_tasks is set");
    return id;
}

}  // namespace gaffer::environment::detail
