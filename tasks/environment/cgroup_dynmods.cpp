// favordynmods: the cgroup2 mount option that keeps cgroup_threadgroup_rwsem (global, also
// taken for v1 attaches) in its slow-reader mode, so that a write to cgroup.procs does not
// wait for an RCU grace period. See EnvironmentSettings::favor_dynamic_cgroups.
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tasks/environment/detail/cgroup_files.hpp"

namespace gaffer::environment::detail {

namespace {

constexpr std::string_view kOption = "favordynmods";

bool has(const std::vector<std::string>& list, std::string_view item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

const MountEntry* first_cgroup2(const std::vector<MountEntry>& mounts) {
    for (const auto& m : mounts)
        if (m.fstype == "cgroup2") return &m;
    return nullptr;
}

}  // namespace

DynmodsState favordynmods_state(const std::vector<MountEntry>& mounts) {
    const MountEntry* m = first_cgroup2(mounts);
    if (!m) return DynmodsState::no_cgroup2;
    // All cgroup2 mounts show one superblock: its options are the same everywhere.
    return has(m->super_options, kOption) ? DynmodsState::set : DynmodsState::missing;
}

Remount favordynmods_remount(const std::vector<MountEntry>& mounts) {
    const MountEntry& m = *first_cgroup2(mounts);
    Remount r;
    r.target = m.mount_point;
    r.flags = MS_REMOUNT;
    const std::pair<std::string_view, unsigned long> flags[] = {
        {"ro", MS_RDONLY},         {"nosuid", MS_NOSUID},         {"nodev", MS_NODEV},
        {"noexec", MS_NOEXEC},     {"noatime", MS_NOATIME},       {"nodiratime", MS_NODIRATIME},
        {"relatime", MS_RELATIME}, {"strictatime", MS_STRICTATIME}};
    for (const auto& [name, flag] : flags)
        if (has(m.mount_options, name)) r.flags |= flag;
    for (const auto& opt : m.super_options) {
        if (opt == "rw" || opt == "ro") continue;  // superblock flags, not cgroup2 options
        if (!r.data.empty()) r.data += ',';
        r.data += opt;
    }
    if (!r.data.empty()) r.data += ',';
    r.data += kOption;
    return r;
}

base::Result<std::string> set_favordynmods(std::string_view mountinfo) {
    auto mounts = parse_mountinfo(mountinfo);
    if (!mounts) return tl::unexpected(mounts.error());
    switch (favordynmods_state(*mounts)) {
        case DynmodsState::set: return std::string();
        case DynmodsState::no_cgroup2:
            return base::fail(base::Errc::unavailable,
                              "no cgroup2 mount to set favordynmods on; moving processes into "
                              "cgroups may wait for RCU grace periods (8-20 ms each)");
        case DynmodsState::missing: break;
    }
    const auto r = favordynmods_remount(*mounts);
    if (::mount(nullptr, r.target.c_str(), nullptr, r.flags, r.data.c_str()) != 0) {
        int err = errno;
        return base::fail_errno(base::Errc::unavailable,
                                "cannot remount " + r.target + " with \"" + r.data +
                                    "\" (favordynmods needs Linux >= 6.0); moving processes "
                                    "into cgroups may wait for RCU grace periods (8-20 ms each)",
                                err);
    }
    return "remounted " + r.target + " with \"" + r.data +
           "\" so that moving a process into a cgroup does not wait for an RCU grace period";
}

}  // namespace gaffer::environment::detail
