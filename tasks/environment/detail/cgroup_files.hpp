// Private to gaffer::environment: the cgroup file formats (pure parsers, bytes in, values
// out) and the per-version knowledge of which file holds what.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/base.hpp"
#include "tasks/environment/environment.hpp"

namespace gaffer::environment::detail {

// The leaf a v2 daemon moves itself into so that its own cgroup may have children with
// controllers enabled.
inline constexpr std::string_view kDaemonLeaf = "gafferd";

// The controllers every environment cgroup gets.
inline const std::vector<std::string>& wanted_controllers() {
    static const std::vector<std::string> names{"memory", "cpu", "pids"};
    return names;
}

// One line of /proc/self/mountinfo that matters to us.
struct MountEntry {
    std::string root;         // the hierarchy path mounted here ("/" usually)
    std::string mount_point;  // octal escapes (\040) decoded
    std::string fstype;       // "cgroup" or "cgroup2"
    std::vector<std::string> mount_options;  // per mount: rw, nosuid, nodev, relatime...
    std::vector<std::string> super_options;  // v1: includes the controller names
};
base::Result<std::vector<MountEntry>> parse_mountinfo(std::string_view text);

// The remount that adds favordynmods to the first cgroup2 mount, repeating its other
// options: a remount applies the flags it is given to the mount (nosuid, nodev, ...) and
// resets the cgroup2 options it does not name (nsdelegate, memory_recursiveprot).
struct Remount {
    std::string target;
    unsigned long flags = 0;  // MS_REMOUNT plus the mount's own MS_* flags
    std::string data;         // the super options, favordynmods included
};
enum class DynmodsState { set, missing, no_cgroup2 };
DynmodsState favordynmods_state(const std::vector<MountEntry>& mounts);
// Requires favordynmods_state(mounts) == missing.
Remount favordynmods_remount(const std::vector<MountEntry>& mounts);
// Applies favordynmods_remount when the option is missing. Returns what was done, for the
// log ("" when the option was set already). Errors: unavailable (no cgroup2 mount, or the
// kernel refused: before 6.0 it does not know the option), invalid (unparsable mountinfo).
base::Result<std::string> set_favordynmods(std::string_view mountinfo);

// /proc/self/cgroup: controller (or "" for the v2 line) -> path.
base::Result<std::map<std::string, std::string>> parse_proc_cgroup(std::string_view text);

// "key value" lines (memory.events, memory.oom_control, pids.events, cpu.stat). Lines
// whose value is not a number are skipped.
std::map<std::string, std::uint64_t, std::less<>> parse_keyed(std::string_view text);

// A single number ("max" reads as UINT64_MAX), as in memory.current.
base::Result<std::uint64_t> parse_number(std::string_view text);

// cgroup.procs: one pid a line.
base::Result<std::vector<pid_t>> parse_pids(std::string_view text);

// The space-separated controller list of cgroup.controllers / cgroup.subtree_control.
std::vector<std::string> split_words(std::string_view text);

// a/b joined, with "" parts skipped; no leading or trailing slash.
std::string join_rel(std::initializer_list<std::string_view> parts);

// A limit file to write at creation: controller, file name, value.
struct Setting {
    std::string controller;
    std::string file;
    std::string value;
};
std::vector<Setting> v1_settings(const CgroupLimits& limits);
// swap_max: the kernel has memory.swap.max (swap accounting on).
std::vector<Setting> v2_settings(const CgroupLimits& limits, bool swap_max);

// Stats from the files of one cgroup; dir_of maps controller -> directory.
CgroupStats v1_stats(CgroupFs& fs, const std::map<std::string, std::string>& dir_of);
CgroupStats v2_stats(CgroupFs& fs, const std::string& dir);
// The OOM-kill counter alone (one file), as in the stats; 0 when unreadable.
std::uint64_t v1_oom_kills(CgroupFs& fs, const std::map<std::string, std::string>& dir_of);
std::uint64_t v2_oom_kills(CgroupFs& fs, const std::string& dir);

// Writes the settings into existing directories with plain file I/O.
base::Result<void> write_settings(CgroupFs& fs, const std::map<std::string, std::string>& dir_of,
                                  const std::vector<Setting>& settings);

// v2 only: makes the daemon's own cgroup a valid parent (see CgroupTree::open) and
// returns the delegated cgroup (own, or its parent when own is already our leaf), then
// creates <delegated>/<parent> with the controllers enabled below it.
base::Result<std::string> prepare_v2(CgroupFs& fs, const Hierarchy& hierarchy,
                                     std::string_view parent);

// Creates <mount>/<rel> for one hierarchy through libcgroup (no limit values: those are
// written by write_settings). Errors: unavailable when libcgroup cannot initialise or sees
// the hierarchy elsewhere, io.
base::Result<void> libcgroup_create(const Hierarchy& hierarchy, const std::string& rel);

}  // namespace gaffer::environment::detail
