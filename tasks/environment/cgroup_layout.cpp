#include <algorithm>

#include "tasks/environment/detail/cgroup_files.hpp"

namespace gaffer::environment {

namespace {

using detail::MountEntry;

bool has(const std::vector<std::string>& list, std::string_view item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

// The daemon's cgroup path relative to the mount: /proc/self/cgroup paths are relative to
// the hierarchy root, and a mount may show only a sub-tree of it (containers bind-mount
// their own cgroup as the root).
base::Result<std::string> own_below_mount(const MountEntry& mount, std::string own) {
    std::string root = detail::join_rel({mount.root});
    own = detail::join_rel({own});
    if (root.empty()) return own;
    if (own == root) return std::string();
    if (own.compare(0, root.size() + 1, root + "/") == 0) return own.substr(root.size() + 1);
    return base::fail(base::Errc::unavailable, "the daemon's cgroup /" + own +
                                                   " is not visible under the mount " +
                                                   mount.mount_point + " (root /" + root + ")");
}

}  // namespace

base::Result<CgroupLayout> detect_layout(std::string_view mountinfo, std::string_view self_cgroup,
                                         CgroupFs& fs) {
    auto mounts = detail::parse_mountinfo(mountinfo);
    if (!mounts) return tl::unexpected(mounts.error());
    auto paths = detail::parse_proc_cgroup(self_cgroup);
    if (!paths) return tl::unexpected(paths.error());

    // Each cgroup2 mount's controllers, read once.
    std::map<std::string, std::vector<std::string>> v2_controllers;
    for (const auto& m : *mounts) {
        if (m.fstype != "cgroup2") continue;
        auto text = fs.read(m.mount_point + "/cgroup.controllers");
        v2_controllers[m.mount_point] = text ? detail::split_words(*text) : std::vector<std::string>{};
    }

    CgroupLayout layout;
    std::vector<std::string> in_v1, in_v2;
    for (const auto& controller : detail::wanted_controllers()) {
        const MountEntry* found = nullptr;
        bool v2 = false;
        for (const auto& m : *mounts) {
            if (m.fstype == "cgroup" && has(m.super_options, controller)) {
                found = &m;
                break;
            }
        }
        if (!found) {
            for (const auto& m : *mounts) {
                if (m.fstype == "cgroup2" && has(v2_controllers[m.mount_point], controller)) {
                    found = &m;
                    v2 = true;
                    break;
                }
            }
        }
        if (!found)
            return base::fail(base::Errc::unavailable,
                              "the cgroup controller \"" + controller +
                                  "\" is mounted neither as cgroup v1 nor in a cgroup2 hierarchy");
        (v2 ? in_v2 : in_v1).push_back(controller);

        auto path = paths->find(v2 ? std::string() : controller);
        if (path == paths->end())
            return base::fail(base::Errc::unavailable,
                              "/proc/self/cgroup has no line for \"" +
                                  (v2 ? std::string("cgroup2") : controller) + "\"");
        auto own = own_below_mount(*found, path->second);
        if (!own) return tl::unexpected(own.error());

        auto same = std::find_if(layout.hierarchies.begin(), layout.hierarchies.end(),
                                 [&](const Hierarchy& h) { return h.mount == found->mount_point; });
        if (same != layout.hierarchies.end()) {
            same->controllers.push_back(controller);
            continue;
        }
        layout.hierarchies.push_back(Hierarchy{{controller}, found->mount_point, *own});
    }
    if (!in_v1.empty() && !in_v2.empty())
        return base::fail(base::Errc::unavailable,
                          "the cgroup controllers are split between v1 (" + in_v1.front() +
                              ") and v2 (" + in_v2.front() + "); gafferd needs them on one version");
    layout.version = in_v2.empty() ? CgroupVersion::v1 : CgroupVersion::v2;
    return layout;
}

base::Result<CgroupLayout> detect_layout() {
    auto mountinfo = base::read_file("/proc/self/mountinfo");
    if (!mountinfo) return tl::unexpected(mountinfo.error());
    auto self = base::read_file("/proc/self/cgroup");
    if (!self) return tl::unexpected(self.error());
    return detect_layout(*mountinfo, *self, system_cgroup_fs());
}

}  // namespace gaffer::environment
