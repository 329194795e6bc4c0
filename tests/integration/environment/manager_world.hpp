// The EnvironmentManager integration tests' world: a scratch directory, a real libuv loop,
// a manager on a cgroup parent of its own, and a recorder of the events.
#pragma once

#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/loop/loop.hpp"
#include "tasks/environment/environment.hpp"
#include "tasks/manifest/manifest.hpp"

namespace gaffer::testing {

using environment::EnvironmentManager;
using environment::EnvironmentSettings;
using scheduler::EnvId;
using scheduler::ExitInfo;

namespace fs = std::filesystem;

inline std::string init_path() {
    const char* path = std::getenv("GAFFER_INIT");
    REQUIRE_MESSAGE(path, "set GAFFER_INIT to the gaffer-init executable (meson test does)");
    REQUIRE_MESSAGE(::access(path, X_OK) == 0, "GAFFER_INIT=" << path << " is not executable");
    return path;
}

struct Recorder final : scheduler::EnvironmentEvents {
    std::vector<EnvId> ready;
    std::vector<std::pair<EnvId, scheduler::Outcome>> results;
    std::vector<std::pair<EnvId, ExitInfo>> exits;
    void on_ready(EnvId env) override { ready.push_back(env); }
    void on_result(EnvId env, scheduler::Outcome outcome) override { results.emplace_back(env, std::move(outcome)); }
    void on_exit(EnvId env, ExitInfo info) override { exits.emplace_back(env, std::move(info)); }
};

// A world-readable scratch directory (tasks run as nobody) holding the task artifacts,
// the hidden state directory and the task logs.
struct Scratch {
    std::string root;
    Scratch() {
        char tmpl[] = "/tmp/gaffer-envtest-XXXXXX";
        root = ::mkdtemp(tmpl);
        ::chmod(root.c_str(), 0755);
        fs::create_directories(root + "/state");
        fs::create_directories(root + "/tasks/echo");
        std::ofstream(root + "/tasks/echo/echo.sh") << "printf '{\"echo\":'\ncat\nprintf '}\\n'\n";
        ::chmod((root + "/tasks").c_str(), 0755);
        ::chmod((root + "/tasks/echo").c_str(), 0755);
        ::chmod((root + "/tasks/echo/echo.sh").c_str(), 0755);
    }
    ~Scratch() { fs::remove_all(root); }
};

struct World {
    Scratch scratch;
    loop::Loop loop;
    Recorder events;
    std::unique_ptr<EnvironmentManager> manager;

    // `tweak` adjusts the settings before the manager opens.
    explicit World(const std::function<void(EnvironmentSettings&)>& tweak = {}) {
        EnvironmentSettings s;
        s.init_path = init_path();
        s.cgroup_parent = "gaffer-itest-mgr-" + std::to_string(::getpid());
        s.log_dir = scratch.root + "/logs";
        s.state_dir = scratch.root + "/state";
        s.default_user = "nobody";
        s.on_log = [](EnvId id, std::string_view level, std::string_view line) {
            MESSAGE("env " << id << " [" << std::string(level) << "] " << std::string(line));
        };
        if (tweak) tweak(s);
        auto m = EnvironmentManager::open(loop, std::move(s));
        REQUIRE_MESSAGE(m, m.error().message);
        manager = std::move(*m);
    }
    ~World() {
        std::vector<std::string> parents;
        if (manager) parents = manager->cgroup_tree().parent_dirs();
        manager.reset();
        for (const auto& dir : parents) ::rmdir(dir.c_str());
    }

    manifest::Manifest task(const std::string& name, const std::string& command_json,
                            const std::string& memory = "32M") {
        std::string json = R"({"name":")" + name + R"(","version":"1","owner":"itest",)" +
                           R"("command":)" + command_json + R"(,"artifact_dir":")" + scratch.root +
                           R"(/tasks/echo","interface":"process","timeout":"10s",)" +
                           R"("limits":{"memory":")" + memory + R"(","cpu":0.5,"pids":16},)" +
                           R"("user":"nobody","network":"none"})";
        auto m = manifest::parse(json);
        REQUIRE_MESSAGE(m, m.error().message);
        return *m;
    }

    // Runs the loop until `done` holds, or fails after `limit`.
    void run_until(const std::function<bool()>& done, std::chrono::seconds limit = std::chrono::seconds(20)) {
        if (done()) return;
        loop::Timer poll(loop);
        auto deadline = std::chrono::steady_clock::now() + limit;
        bool timed_out = false;
        poll.start(std::chrono::milliseconds(10), [&] {
            if (done()) loop.stop();
            else if (std::chrono::steady_clock::now() > deadline) {
                timed_out = true;
                loop.stop();
            }
        }, std::chrono::milliseconds(10));
        loop.run();
        REQUIRE_FALSE_MESSAGE(timed_out, "the loop did not reach the expected state in time");
    }

    // Runs the loop until the warm pool holds `n` waiting gaffer-inits.
    void wait_for_pool(std::size_t n) {
        run_until([&] { return manager->init_pool_waiting() == n; });
    }
};

}  // namespace gaffer::testing
