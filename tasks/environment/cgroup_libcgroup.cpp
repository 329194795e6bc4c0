// The libcgroup adapter: creation of an environment cgroup's directories.
//
// Only this step goes through libcgroup. It cannot see the per-controller "own cgroup"
// of a v1 hybrid (memory may sit in /process_api/x while cpu sits in /), and it has
// nothing for memory.events, cgroup.kill or v2 delegation (see PITFALLS.md), so those are
// plain file I/O in the other files. One libcgroup `struct cgroup` per hierarchy keeps
// each name relative to its own mount.
#include <libcgroup.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "tasks/environment/detail/cgroup_files.hpp"

namespace gaffer::environment::detail {

namespace {

struct CgroupDeleter {
    void operator()(cgroup* group) const { cgroup_free(&group); }
};

std::string describe(int rc) {
    std::string text = cgroup_strerror(rc);
    if (rc == ECGOTHER) {
        text += ": ";
        text += std::strerror(cgroup_get_last_errno());
    }
    return text;
}

// cgroup_init() reads the mount table once per process (PITFALLS: it must not run twice).
int libcgroup_init_once() {
    static const int rc = cgroup_init();
    return rc;
}

}  // namespace

base::Result<void> libcgroup_create(const Hierarchy& hierarchy, const std::string& rel) {
    if (int rc = libcgroup_init_once(); rc != 0)
        return base::fail(base::Errc::unavailable, "libcgroup: cgroup_init failed: " + describe(rc));
    for (const auto& controller : hierarchy.controllers) {
        char* raw = nullptr;
        int rc = cgroup_get_subsys_mount_point(controller.c_str(), &raw);
        std::unique_ptr<char, decltype(&std::free)> mount(raw, &std::free);
        if (rc != 0 || !mount || hierarchy.mount != mount.get())
            return base::fail(base::Errc::unavailable,
                              "libcgroup sees the \"" + controller + "\" controller at " +
                                  (mount ? std::string(mount.get()) : describe(rc)) +
                                  ", but /proc/self/mountinfo has it at " + hierarchy.mount +
                                  " (was cgroupfs remounted after start-up?)");
    }

    std::unique_ptr<cgroup, CgroupDeleter> group(cgroup_new_cgroup(rel.c_str()));
    if (!group) return base::fail(base::Errc::io, "libcgroup: cannot allocate cgroup " + rel);
    for (const auto& controller : hierarchy.controllers) {
        if (!cgroup_add_controller(group.get(), controller.c_str()))
            return base::fail(base::Errc::io, "libcgroup: cannot add controller " + controller);
    }
    // ignore_ownership=1: the daemon runs as root and keeps the kernel's ownership.
    if (int rc = cgroup_create_cgroup(group.get(), 1); rc != 0)
        return base::fail(base::Errc::io, "libcgroup: cannot create " + hierarchy.mount + "/" +
                                              rel + ": " + describe(rc));
    return {};
}

}  // namespace gaffer::environment::detail
