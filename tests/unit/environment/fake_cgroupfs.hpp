// A fake cgroupfs in a temporary directory: real files, kernel behaviour emulated where
// the code under test depends on it (interface files appear on mkdir, rmdir of a
// populated group is EBUSY, cgroup.procs/cgroup.kill/subtree_control semantics, kill()
// removes the pid instead of signalling anything).
#pragma once

#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tasks/environment/detail/cgroup_files.hpp"
#include "tasks/environment/environment.hpp"

namespace fake {

namespace fs = std::filesystem;
using gaffer::base::Result;
using namespace gaffer::environment;

inline std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void put(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
}

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/gaffer-cgfs-XXXXXX";
        path_ = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path_); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

class FakeCgroupFs : public CgroupFs {
public:
    // mount point -> files the kernel shows in each of its cgroups (with initial text).
    std::map<std::string, std::map<std::string, std::string>> files_of_mount;
    std::vector<pid_t> killed;
    std::vector<std::string> kill_files_written;

    void populate(const std::string& dir) {
        for (const auto& [mount, files] : files_of_mount) {
            if (dir != mount && dir.compare(0, mount.size() + 1, mount + "/") != 0) continue;
            for (const auto& [name, text] : files)
                if (!fs::exists(dir + "/" + name)) put(dir + "/" + name, text);
        }
    }

    Result<void> make_dir(const std::string& path) override {
        auto ok = CgroupFs::make_dir(path);
        if (ok) populate(path);
        return ok;
    }

    Result<void> remove_dir(const std::string& path) override {
        if (!fs::exists(path)) return {};
        if (!gaffer::environment::detail::split_words(slurp(path + "/cgroup.procs")).empty())
            return gaffer::base::fail(gaffer::base::Errc::busy, "populated: " + path);
        for (const auto& entry : fs::directory_iterator(path))
            if (entry.is_regular_file()) fs::remove(entry.path());
        return CgroupFs::remove_dir(path);
    }

    Result<void> kill(pid_t pid, int signum) override {
        if (signum == SIGKILL) {
            killed.push_back(pid);
            remove_everywhere(pid);
        }
        return {};
    }

    Result<void> write(const std::string& path, std::string_view value) override {
        auto name = fs::path(path).filename().string();
        auto dir = fs::path(path).parent_path().string();
        if (!fs::exists(path))
            return gaffer::base::fail(gaffer::base::Errc::io, "no such cgroup file " + path);
        if (name == "cgroup.kill") {
            kill_files_written.push_back(path);
            put(dir + "/cgroup.procs", "");
            return {};
        }
        if (name == "cgroup.procs") {
            pid_t pid = std::stoi(std::string(value));
            remove_everywhere(pid);
            put(path, slurp(path) + std::to_string(pid) + "\n");
            return {};
        }
        if (name == "cgroup.subtree_control") {
            auto enabled = gaffer::environment::detail::split_words(slurp(path));
            std::set<std::string> set(enabled.begin(), enabled.end());
            for (const auto& word : gaffer::environment::detail::split_words(value)) {
                if (word[0] == '+') set.insert(word.substr(1));
                if (word[0] == '-') set.erase(word.substr(1));
            }
            std::string text;
            for (const auto& c : set) text += (text.empty() ? "" : " ") + c;
            put(path, text + "\n");
            return {};
        }
        put(path, std::string(value));
        return {};
    }

    void remove_everywhere(pid_t pid) {
        for (const auto& [mount, files] : files_of_mount) {
            if (!fs::exists(mount)) continue;
            for (const auto& entry : fs::recursive_directory_iterator(mount)) {
                if (entry.path().filename() != "cgroup.procs") continue;
                auto pids = gaffer::environment::detail::split_words(slurp(entry.path()));
                std::string text;
                for (const auto& p : pids)
                    if (p != std::to_string(pid)) text += p + "\n";
                put(entry.path(), text);
            }
        }
    }
};

}  // namespace fake
