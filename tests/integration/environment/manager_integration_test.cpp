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

#include "tests/integration/environment/manager_world.hpp"

using namespace gaffer;
using namespace gaffer::environment;
using scheduler::EnvId;
using scheduler::ExitInfo;
using scheduler::Status;

using testing::World;
namespace fs = std::filesystem;

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
    // on_exit comes with gaffer-init's exited frame; its exit and the cgroup's removal
    // follow off that path, within moments. (The other cgroups there are the warm pool's.)
    auto leftovers = [&] {
        std::vector<std::string> left;
        if (::kill(pid, 0) == 0) left.push_back("gaffer-init " + std::to_string(pid));
        for (const auto& dir : w.manager->cgroup_tree().parent_dirs())
            if (fs::exists(dir + "/env-" + std::to_string(*id))) left.push_back(dir + "/env-" + std::to_string(*id));
        return left;
    };
    w.run_until([&] { return leftovers().empty(); }, std::chrono::seconds(5));
    for (const auto& left : leftovers()) CHECK_MESSAGE(false, "left behind: " << left);
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
    const std::string cgroup = w.manager->cgroup_tree().parent_dirs().front() + "/env-" + std::to_string(*id);
    w.run_until([&] { return !fs::exists(cgroup); }, std::chrono::seconds(5));
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
