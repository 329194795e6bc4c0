// EnvironmentManager end to end: a real libuv loop, real gaffer-init, real cgroups.
#include <doctest/doctest.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "coordinator/loop/loop.hpp"
#include "tasks/environment/environment.hpp"
#include "tasks/manifest/manifest.hpp"

using namespace gaffer;
using namespace gaffer::environment;
using scheduler::EnvId;
using scheduler::ExitInfo;
using scheduler::Status;

namespace {

namespace fs = std::filesystem;

std::string init_path() {
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

    World() {
        EnvironmentSettings s;
        s.init_path = init_path();
        s.cgroup_parent = "gaffer-itest-mgr-" + std::to_string(::getpid());
        s.log_dir = scratch.root + "/logs";
        s.state_dir = scratch.root + "/state";
        s.default_user = "nobody";
        s.on_log = [](EnvId id, std::string_view level, std::string_view line) {
            MESSAGE("env " << id << " [" << std::string(level) << "] " << std::string(line));
        };
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
};

}  // namespace

TEST_CASE("a process task starts, answers an invocation and stops leaving nothing behind") {
    World w;
    auto id = w.manager->start(w.task("echo", R"(["/bin/sh","/task/echo.sh"])"), w.events);
    REQUIRE_MESSAGE(id, id.error().message);
    w.run_until([&] { return !w.events.ready.empty() || !w.events.exits.empty(); });
    REQUIRE_MESSAGE(w.events.exits.empty(), w.events.exits.front().second.detail);
    CHECK(w.events.ready == std::vector<EnvId>{*id});

    auto listed = w.manager->list();
    REQUIRE(listed.size() == 1);
    pid_t pid = listed[0].pid;
    CHECK(pid > 0);
    REQUIRE(listed[0].cgroup);
    CHECK(listed[0].cgroup->processes >= 1);

    w.manager->invoke(*id, scheduler::Invocation{"inv-1", "echo", "\"hello\"", false});
    w.run_until([&] { return !w.events.results.empty(); });
    CHECK(w.events.results[0].first == *id);
    CHECK(w.events.results[0].second.status == Status::ok);
    CHECK(w.events.results[0].second.payload == "{\"echo\":\"hello\"}\n");

    w.manager->stop(*id, std::chrono::seconds(2));
    w.run_until([&] { return !w.events.exits.empty(); });
    REQUIRE(w.events.exits.size() == 1);
    CHECK(w.events.exits[0].first == *id);
    CHECK(w.events.exits[0].second.reason == ExitInfo::Reason::stopped);
    CHECK(w.manager->list().empty());
    CHECK((::kill(pid, 0) == -1 && errno == ESRCH));

    for (const auto& dir : w.manager->cgroup_tree().parent_dirs()) {
        REQUIRE(fs::exists(dir));
        for (const auto& entry : fs::directory_iterator(dir))
            CHECK_MESSAGE(!entry.is_directory(), "left behind: " << entry.path());
    }
    CHECK(fs::exists(w.scratch.root + "/logs/echo.log"));
}

TEST_CASE("an invocation that exceeds the memory limit reports out_of_memory") {
    World w;
    auto id = w.manager->start(
        w.task("hog", R"j(["/usr/bin/python3","-c","x = b'a' * (512 << 20); print(len(x))"])j"),
        w.events);
    REQUIRE_MESSAGE(id, id.error().message);
    w.run_until([&] { return !w.events.ready.empty() || !w.events.exits.empty(); });
    REQUIRE_MESSAGE(w.events.exits.empty(), w.events.exits.front().second.detail);

    w.manager->invoke(*id, scheduler::Invocation{"inv-oom", "hog", "{}", false});
    w.run_until([&] { return !w.events.results.empty() || !w.events.exits.empty(); });
    REQUIRE(w.events.results.size() == 1);
    CHECK(w.events.results[0].second.status == Status::out_of_memory);
    CHECK(w.events.results[0].second.detail == "memory limit of 33554432 bytes exceeded");

    w.manager->stop(*id, std::chrono::seconds(1));
    w.run_until([&] { return !w.events.exits.empty(); });
    CHECK(w.events.exits[0].second.reason == ExitInfo::Reason::stopped);
}

TEST_CASE("a task that cannot start ends with init_error, and its cgroup is gone") {
    World w;
    // A long-lived process task whose command does not exist inside the environment.
    auto m = w.task("broken", R"(["/task/no-such-binary"])");
    m.mode = manifest::Mode::long_lived;
    auto id = w.manager->start(m, w.events);
    REQUIRE_MESSAGE(id, id.error().message);
    w.run_until([&] { return !w.events.exits.empty(); });
    CHECK(w.events.ready.empty());
    CHECK(w.events.exits[0].second.reason == ExitInfo::Reason::init_error);
    CHECK(w.events.exits[0].second.detail.find("no-such-binary") != std::string::npos);
    CHECK(w.manager->list().empty());
}

namespace {
std::string cgroup2_line() {
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);)
        if (line.find(" - cgroup2 ") != std::string::npos) return line;
    return {};
}
}  // namespace

TEST_CASE("open() remounts cgroup2 with favordynmods, keeping its other options") {
    const std::string before = cgroup2_line();
    if (before.empty()) {
        MESSAGE("no cgroup2 mount on this machine: nothing to test");
        return;
    }
    utsname u{};
    ::uname(&u);
    if (std::atoi(u.release) < 6) {
        MESSAGE("Linux " << u.release << " has no favordynmods: nothing to test");
        return;
    }
    auto field = [](const std::string& line, int n) {
        std::istringstream words(line);
        std::string w;
        for (int i = 0; i <= n; ++i) words >> w;
        return w;
    };
    // The super options other than rw/ro and favordynmods, as a mount -o list.
    auto options = [](const std::string& line) {
        std::istringstream parts(line.substr(line.rfind(' ') + 1));
        std::string out;
        for (std::string p; std::getline(parts, p, ',');)
            if (p != "favordynmods" && p != "rw" && p != "ro") out += (out.empty() ? "" : ",") + p;
        return out;
    };
    const std::string mount_point = field(before, 4);
    // A fresh cgroup2 mount clears every option of the one shared superblock; the other
    // options are put back at once, so that only favordynmods is missing.
    char tmpl[] = "/tmp/gaffer-cg2-XXXXXX";
    const std::string probe = ::mkdtemp(tmpl);
    REQUIRE(::system(("mount -t cgroup2 none " + probe).c_str()) == 0);
    REQUIRE(::system(("umount " + probe).c_str()) == 0);
    ::rmdir(probe.c_str());
    if (!options(before).empty())
        REQUIRE(::system(("mount -o remount," + options(before) + " " + mount_point).c_str()) == 0);
    const std::string cleared = cgroup2_line();
    CHECK(cleared.find("favordynmods") == std::string::npos);
    CHECK(options(cleared) == options(before));

    { World w; }  // open() remounts; what it logs shows through MESSAGE
    const std::string after = cgroup2_line();
    CHECK_MESSAGE(after.find("favordynmods") != std::string::npos, after);
    CHECK(field(after, 5) == field(before, 5));  // per-mount flags
    CHECK(options(after) == options(before));
}
