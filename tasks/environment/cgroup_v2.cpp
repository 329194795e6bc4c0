// cgroup v2 delegation. Under systemd with Delegate=yes the daemon owns the cgroup it was
// started in, but the "no internal processes" rule forbids enabling controllers for
// children of a cgroup that holds processes. So the daemon first moves itself into the
// leaf <own>/gafferd, then enables memory, cpu and pids in <own> and in <own>/<parent>.
// The root cgroup is exempt from the rule and needs no move.
#include <unistd.h>

#include <algorithm>

#include "tasks/environment/detail/cgroup_files.hpp"

namespace gaffer::environment::detail {

namespace {

// Writes "+ctrl ..." for the wanted controllers missing from dir's subtree_control.
base::Result<void> enable_controllers(CgroupFs& fs, const std::string& dir, const std::string& hint) {
    auto current = fs.read(dir + "/cgroup.subtree_control");
    if (!current) return tl::unexpected(current.error());
    auto enabled = split_words(*current);
    std::string change;
    for (const auto& c : wanted_controllers()) {
        if (std::find(enabled.begin(), enabled.end(), c) != enabled.end()) continue;
        if (!change.empty()) change += ' ';
        change += "+" + c;
    }
    if (change.empty()) return {};
    auto ok = fs.write(dir + "/cgroup.subtree_control", change);
    if (!ok) return base::fail(ok.error().code, ok.error().message + hint);
    return {};
}

}  // namespace

base::Result<std::string> prepare_v2(CgroupFs& fs, const Hierarchy& hierarchy,
                                     std::string_view parent) {
    std::string own = hierarchy.own;
    // A second CgroupTree in the same process finds the daemon in its leaf already.
    auto slash = own.rfind('/');
    std::string_view last = slash == std::string::npos ? std::string_view(own)
                                                       : std::string_view(own).substr(slash + 1);
    if (last == kDaemonLeaf) own = slash == std::string::npos ? std::string() : own.substr(0, slash);

    const std::string own_dir = own.empty() ? hierarchy.mount : hierarchy.mount + "/" + own;
    auto offered = fs.read(own_dir + "/cgroup.controllers");
    if (!offered) return tl::unexpected(offered.error());
    auto offered_list = split_words(*offered);
    for (const auto& c : wanted_controllers()) {
        if (std::find(offered_list.begin(), offered_list.end(), c) == offered_list.end())
            return base::fail(base::Errc::unavailable,
                              "the cgroup " + own_dir + " does not offer the \"" + c +
                                  "\" controller; run gafferd with systemd's Delegate=yes");
    }

    const bool in_leaf = own != hierarchy.own;
    if (!own.empty() && !in_leaf) {
        const std::string leaf = own_dir + "/" + std::string(kDaemonLeaf);
        if (auto ok = fs.make_dir(leaf); !ok) return tl::unexpected(ok.error());
        if (auto ok = fs.write(leaf + "/cgroup.procs", std::to_string(::getpid())); !ok)
            return tl::unexpected(ok.error());
    }
    const std::string busy_hint =
        " (other processes share the daemon's cgroup " + own_dir +
        "; run gafferd in a cgroup of its own, e.g. a systemd service with Delegate=yes)";
    if (auto ok = enable_controllers(fs, own_dir, busy_hint); !ok) return tl::unexpected(ok.error());

    std::string dir = own_dir;
    std::string_view rest = parent;
    while (!rest.empty()) {
        auto cut = rest.find('/');
        dir += "/" + std::string(rest.substr(0, cut));
        rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 1);
        if (auto ok = fs.make_dir(dir); !ok) return tl::unexpected(ok.error());
        if (auto ok = enable_controllers(fs, dir, ""); !ok) return tl::unexpected(ok.error());
    }
    return own;
}

}  // namespace gaffer::environment::detail
