// The file names and formats of cgroup v1 (one directory per controller hierarchy) and
// v2 (one directory), side by side so that the differences are easy to check.
#include <algorithm>

#include "tasks/environment/detail/cgroup_files.hpp"

namespace gaffer::environment::detail {

namespace {
constexpr std::uint64_t kCfsPeriodUsec = 100000;
constexpr std::uint64_t kMinCfsQuotaUsec = 1000;  // the kernel refuses less

// CPU time per period for cpu_millis thousandths of a CPU.
std::uint64_t cfs_quota_usec(const CgroupLimits& limits) {
    return std::max<std::uint64_t>(kMinCfsQuotaUsec,
                                   std::uint64_t{limits.cpu_millis} * kCfsPeriodUsec / 1000);
}

std::uint64_t read_number_or_zero(CgroupFs& fs, const std::string& path) {
    auto text = fs.read(path);
    if (!text) return 0;
    auto value = parse_number(*text);
    return value ? *value : 0;
}

std::map<std::string, std::uint64_t, std::less<>> read_keyed(CgroupFs& fs, const std::string& path) {
    auto text = fs.read(path);
    if (!text) return {};
    return parse_keyed(*text);
}

std::uint64_t get(const std::map<std::string, std::uint64_t, std::less<>>& values,
                  std::string_view key) {
    auto it = values.find(key);
    return it == values.end() ? 0 : it->second;
}
}  // namespace

std::vector<Setting> v1_settings(const CgroupLimits& limits) {
    std::vector<Setting> out;
    // Swap (memory.memsw.*) is left alone: it exists only with swap accounting, and a
    // gateway without swap kills at limit_in_bytes anyway.
    out.push_back({"memory", "memory.limit_in_bytes", std::to_string(limits.memory_bytes)});
    // The period goes first: the kernel checks quota against the current period.
    out.push_back({"cpu", "cpu.cfs_period_us", std::to_string(kCfsPeriodUsec)});
    if (limits.cpu_millis == 0) {
        out.push_back({"cpu", "cpu.cfs_quota_us", "-1"});
    } else {
        out.push_back({"cpu", "cpu.cfs_quota_us", std::to_string(cfs_quota_usec(limits))});
    }
    out.push_back({"pids", "pids.max", limits.pids == 0 ? "max" : std::to_string(limits.pids)});
    return out;
}

std::uint64_t v1_oom_kills(CgroupFs& fs, const std::map<std::string, std::string>& dir_of) {
    auto it = dir_of.find("memory");
    if (it == dir_of.end()) return 0;
    auto oom = read_keyed(fs, it->second + "/memory.oom_control");
    // oom_kill appeared in 4.13; before it, failcnt (hits of the limit) is the best
    // sign that the limit was what ended the task.
    return oom.count("oom_kill") ? get(oom, "oom_kill")
                                 : read_number_or_zero(fs, it->second + "/memory.failcnt");
}

CgroupStats v1_stats(CgroupFs& fs, const std::map<std::string, std::string>& dir_of) {
    CgroupStats stats;
    stats.oom_kills = v1_oom_kills(fs, dir_of);
    if (auto it = dir_of.find("memory"); it != dir_of.end()) {
        const std::string& dir = it->second;
        stats.memory_current = read_number_or_zero(fs, dir + "/memory.usage_in_bytes");
        stats.memory_peak = read_number_or_zero(fs, dir + "/memory.max_usage_in_bytes");
    }
    if (auto it = dir_of.find("pids"); it != dir_of.end())
        stats.pids_max_hits = get(read_keyed(fs, it->second + "/pids.events"), "max");
    if (auto it = dir_of.find("cpu"); it != dir_of.end()) {
        auto cpu = read_keyed(fs, it->second + "/cpu.stat");
        stats.nr_throttled = get(cpu, "nr_throttled");
        stats.throttled_usec = get(cpu, "throttled_time") / 1000;  // nanoseconds on v1
    }
    return stats;
}

std::vector<Setting> v2_settings(const CgroupLimits& limits, bool swap_max) {
    std::vector<Setting> out;
    out.push_back({"memory", "memory.max", std::to_string(limits.memory_bytes)});
    if (swap_max) out.push_back({"memory", "memory.swap.max", "0"});
    if (limits.cpu_millis == 0) {
        out.push_back({"cpu", "cpu.max", "max " + std::to_string(kCfsPeriodUsec)});
    } else {
        out.push_back({"cpu", "cpu.max",
                       std::to_string(cfs_quota_usec(limits)) + " " + std::to_string(kCfsPeriodUsec)});
    }
    out.push_back({"pids", "pids.max", limits.pids == 0 ? "max" : std::to_string(limits.pids)});
    return out;
}

std::uint64_t v2_oom_kills(CgroupFs& fs, const std::string& dir) {
    return get(read_keyed(fs, dir + "/memory.events"), "oom_kill");
}

CgroupStats v2_stats(CgroupFs& fs, const std::string& dir) {
    CgroupStats stats;
    stats.oom_kills = v2_oom_kills(fs, dir);
    stats.memory_current = read_number_or_zero(fs, dir + "/memory.current");
    stats.memory_peak = read_number_or_zero(fs, dir + "/memory.peak");
    stats.pids_max_hits = get(read_keyed(fs, dir + "/pids.events"), "max");
    auto cpu = read_keyed(fs, dir + "/cpu.stat");
    stats.nr_throttled = get(cpu, "nr_throttled");
    stats.throttled_usec = get(cpu, "throttled_usec");
    return stats;
}

base::Result<void> write_settings(CgroupFs& fs, const std::map<std::string, std::string>& dir_of,
                                  const std::vector<Setting>& settings) {
    for (const auto& s : settings) {
        auto dir = dir_of.find(s.controller);
        if (dir == dir_of.end()) continue;
        if (auto ok = fs.write(dir->second + "/" + s.file, s.value); !ok) return ok;
    }
    return {};
}

}  // namespace gaffer::environment::detail
