#include <signal.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "tasks/environment/detail/cgroup_files.hpp"

namespace gaffer::environment {

namespace {

using namespace std::chrono_literals;
constexpr auto kKillPatience = 2s;    // SIGKILLed processes leave the cgroup within ms
constexpr auto kRemovePatience = 1s;  // rmdir is EBUSY until the last exit is accounted
constexpr auto kPollInterval = 5ms;

base::Result<std::vector<pid_t>> read_pids(CgroupFs& fs, const std::string& dir) {
    auto text = fs.read(dir + "/cgroup.procs");
    if (!text) {
        if (text.error().code == base::Errc::not_found) return std::vector<pid_t>{};
        return tl::unexpected(text.error());
    }
    return detail::parse_pids(*text);
}

// SIGKILLs what is in `dir` until cgroup.procs reads empty. Re-reading matters: a process
// may fork between our read and its death, and the pids limit bounds how often.
base::Result<void> kill_all(CgroupFs& fs, const std::string& dir) {
    auto deadline = std::chrono::steady_clock::now() + kKillPatience;
    while (true) {
        auto pids = read_pids(fs, dir);
        if (!pids) return tl::unexpected(pids.error());
        if (pids->empty()) return {};
        if (std::chrono::steady_clock::now() >= deadline)
            return base::fail(base::Errc::timeout, std::to_string(pids->size()) +
                                                       " processes survive SIGKILL in " + dir);
        for (pid_t pid : *pids)
            if (auto ok = fs.kill(pid, SIGKILL); !ok) return ok;
        std::this_thread::sleep_for(kPollInterval);
    }
}

// Depth first: children (which gaffer-init or a task may have made) go before `dir`.
base::Result<void> remove_tree(CgroupFs& fs, const std::string& dir) {
    auto children = fs.list_dirs(dir);
    if (!children) return tl::unexpected(children.error());
    for (const auto& child : *children)
        if (auto ok = remove_tree(fs, dir + "/" + child); !ok) return ok;
    if (auto ok = kill_all(fs, dir); !ok) return ok;
    auto deadline = std::chrono::steady_clock::now() + kRemovePatience;
    while (true) {
        auto removed = fs.remove_dir(dir);
        if (removed || removed.error().code != base::Errc::busy ||
            std::chrono::steady_clock::now() >= deadline)
            return removed;
        std::this_thread::sleep_for(kPollInterval);
    }
}

}  // namespace

std::vector<std::string> Cgroup::procs_files() const {
    std::vector<std::string> files;
    for (const auto& dir : dirs_) files.push_back(dir + "/cgroup.procs");
    return files;
}

base::Result<std::vector<pid_t>> Cgroup::pids() const {
    std::vector<pid_t> all;
    for (const auto& dir : dirs_) {
        auto pids = read_pids(*fs_, dir);
        if (!pids) return tl::unexpected(pids.error());
        all.insert(all.end(), pids->begin(), pids->end());
    }
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    return all;
}

base::Result<CgroupStats> Cgroup::stats() const {
    CgroupStats stats = version_ == CgroupVersion::v1 ? detail::v1_stats(*fs_, dir_of_)
                                                      : detail::v2_stats(*fs_, dirs_.front());
    auto pids = this->pids();
    if (!pids) return tl::unexpected(pids.error());
    stats.processes = pids->size();
    return stats;
}

base::Result<void> Cgroup::set_limits(const CgroupLimits& limits) {
    auto settings = version_ == CgroupVersion::v1 ? detail::v1_settings(limits)
                                                  : detail::v2_settings(limits, swap_max_);
    if (auto ok = detail::write_settings(*fs_, dir_of_, settings); !ok) return ok;
    limits_ = limits;
    return {};
}

std::uint64_t Cgroup::oom_kills() const {
    if (dirs_.empty()) return 0;
    return version_ == CgroupVersion::v1 ? detail::v1_oom_kills(*fs_, dir_of_)
                                         : detail::v2_oom_kills(*fs_, dirs_.front());
}

base::Result<void> Cgroup::kill() {
    if (dirs_.empty()) return {};  // moved from
    // cgroup.kill (5.14) kills the whole subtree atomically, forks included.
    if (version_ == CgroupVersion::v2 && fs_->exists(dirs_.front() + "/cgroup.kill"))
        if (auto ok = fs_->write(dirs_.front() + "/cgroup.kill", "1"); !ok) return ok;
    for (const auto& dir : dirs_)
        if (auto ok = kill_all(*fs_, dir); !ok) return ok;
    return {};
}

base::Result<void> Cgroup::remove() {
    // The kernel refuses to rmdir a cgroup that holds processes or children, so trying it
    // first cannot lose anything, and spares reading cgroup.procs and listing directories
    // on every exit.
    bool all_removed = true;
    for (const auto& dir : dirs_)
        if (!fs_->remove_dir(dir)) all_removed = false;
    if (all_removed) return {};
    if (auto ok = kill(); !ok) return ok;
    for (const auto& dir : dirs_)
        if (auto ok = remove_tree(*fs_, dir); !ok) return ok;
    return {};
}

}  // namespace gaffer::environment
