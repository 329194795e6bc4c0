// The warm pool end to end: a pooled gaffer-init waits in the cgroup of the environment it
// is going to be, environments started from one are isolated as before with the task's
// limits, every process of theirs is in their own cgroup, the pool refills, and nothing of
// it is left once the manager is gone.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>
#include <sys/types.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
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

namespace {

// What a task sees, as "pid1 cmdline|processes|interfaces|hostname|/proc/self/cgroup".
constexpr const char* kProbe =
    "pid1=$(tr '\\0' ' ' < /proc/1/cmdline)\n"
    "n=0; for d in /proc/[0-9]*; do n=$((n+1)); done\n"
    "ifs=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ,)\n"
    "printf '%s|%s|%s|%s|%s' \"$pid1\" \"$n\" \"$ifs\" \"$(cat /proc/sys/kernel/hostname)\" "
    "\"$(tr '\\n' ';' < /proc/self/cgroup)\"\n";

std::vector<pid_t> read_pids(const std::string& file) {
    std::ifstream in(file);
    std::vector<pid_t> pids;
    for (pid_t pid; in >> pid;) pids.push_back(pid);
    return pids;
}

// The cgroups below the environments' parent, in every hierarchy, that belong to no
// environment the manager lists: those of the waiting gaffer-inits.
std::vector<std::string> waiting_dirs(const World& w) {
    std::vector<std::string> active;
    for (const auto& env : w.manager->list()) active.push_back("env-" + std::to_string(env.id));
    std::vector<std::string> dirs;
    for (const auto& parent : w.manager->cgroup_tree().parent_dirs())
        for (const auto& entry : fs::directory_iterator(parent))
            if (entry.is_directory() &&
                std::find(active.begin(), active.end(), entry.path().filename().string()) == active.end())
                dirs.push_back(entry.path().string());
    return dirs;
}

// The processes in `dirs`, merged.
std::vector<pid_t> pids_in(const std::vector<std::string>& dirs) {
    std::vector<pid_t> all;
    for (const auto& dir : dirs)
        for (pid_t pid : read_pids(dir + "/cgroup.procs"))
            if (std::find(all.begin(), all.end(), pid) == all.end()) all.push_back(pid);
    return all;
}

std::vector<pid_t> waiting_pids(const World& w) { return pids_in(waiting_dirs(w)); }

std::string read_text(const std::string& file) {
    std::ifstream in(file);
    std::string text;
    std::getline(in, text);
    return text;
}

// This process's own cgroup.procs file in every hierarchy the manager uses ("gafferd"'s).
std::vector<std::string> own_procs_files(const World& w) {
    const auto& layout = w.manager->cgroup_tree().layout();
    std::vector<std::string> files;
    std::ifstream in("/proc/self/cgroup");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    for (const auto& h : layout.hierarchies)
        for (const auto& line : lines) {
            auto first = line.find(':'), second = line.find(':', first + 1);
            std::string controllers = line.substr(first + 1, second - first - 1);
            bool match = layout.version == CgroupVersion::v2
                             ? controllers.empty()
                             : ("," + controllers + ",").find("," + h.controllers[0] + ",") != std::string::npos;
            if (match) files.push_back(h.mount + line.substr(second + 1) + "/cgroup.procs");
        }
    return files;
}

bool contains(const std::vector<pid_t>& pids, pid_t pid) {
    return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

// Alive and not a zombie.
bool running(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto paren = stat.rfind(") ");
    return paren != std::string::npos && stat[paren + 2] != 'Z';
}

pid_t first_child(pid_t pid) {
    auto children = read_pids("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    return children.empty() ? -1 : children.front();
}

}  // namespace

TEST_CASE("a start from the warm pool is isolated, in its own cgroup, and the pool refills") {
    World w;  // the default pool of 2
    w.wait_for_pool(2);
    const auto waiting_before = waiting_pids(w);
    CHECK(waiting_before.size() == 4);  // two gaffer-inits, each an outer process and PID 1
    CHECK(waiting_dirs(w).size() == 2 * w.manager->cgroup_tree().parent_dirs().size());  // a cgroup each

    std::ofstream(w.scratch.root + "/tasks/echo/probe.sh") << kProbe;
    auto id = w.manager->start(w.task("probe", R"(["/bin/sh","/task/probe.sh"])"), w.events);
    REQUIRE_MESSAGE(id, id.error().message);
    w.run_until([&] { return !w.events.ready.empty() || !w.events.exits.empty(); });
    REQUIRE_MESSAGE(w.events.exits.empty(), w.events.exits.front().second.detail);

    auto listed = w.manager->list();
    REQUIRE(listed.size() == 1);
    const pid_t outer = listed[0].pid;
    const pid_t pid1 = first_child(outer);
    REQUIRE(pid1 > 0);
    CHECK_MESSAGE(contains(waiting_before, outer), "the environment should have come from the pool");

    w.manager->invoke(*id, scheduler::Invocation{"inv-probe", "probe", "{}", false});
    w.run_until([&] { return !w.events.results.empty() || !w.events.exits.empty(); });
    REQUIRE(w.events.results.size() == 1);
    REQUIRE(w.events.results[0].second.status == Status::ok);
    std::vector<std::string> seen;
    std::stringstream report(w.events.results[0].second.payload);
    for (std::string part; std::getline(report, part, '|');) seen.push_back(part);
    REQUIRE_MESSAGE(seen.size() == 5, w.events.results[0].second.payload);
    CHECK(seen[0].find("gaffer-init") != std::string::npos);  // PID 1
    CHECK_MESSAGE(std::stoi(seen[1]) <= 3, "host processes visible: " << seen[1]);
    CHECK(seen[2] == "lo,");  // network "none": a fresh namespace with loopback only
    CHECK(seen[3] == "probe");
    const std::string cgroup_name = "env-" + std::to_string(*id);
    CHECK(seen[4].find(cgroup_name) != std::string::npos);

    // Both gaffer-init processes are in the environment's cgroup, the one they waited in,
    // in every hierarchy; none is in this process's ("gafferd"'s) own cgroup.
    const auto parents = w.manager->cgroup_tree().parent_dirs();
    for (const auto& dir : parents) {
        auto pids = read_pids(dir + "/" + cgroup_name + "/cgroup.procs");
        CHECK_MESSAGE(contains(pids, outer), dir);
        CHECK_MESSAGE(contains(pids, pid1), dir);
    }
    const auto pooled_now = waiting_pids(w);
    for (const auto& file : own_procs_files(w)) {
        auto own = read_pids(file);
        CHECK_MESSAGE(!own.empty(), file);
        CHECK_MESSAGE(!contains(own, outer), file);
        CHECK_MESSAGE(!contains(own, pid1), file);
        for (pid_t pid : pooled_now) CHECK_MESSAGE(!contains(own, pid), file);
    }
    // The cgroup has the task's limits (32M, 16 pids), not the waiting ones.
    const auto& layout = w.manager->cgroup_tree().layout();
    for (std::size_t i = 0; i < layout.hierarchies.size(); ++i) {
        const auto& controllers = layout.hierarchies[i].controllers;
        const std::string dir = parents[i] + "/" + cgroup_name;
        auto has = [&](const char* c) { return std::find(controllers.begin(), controllers.end(), c) != controllers.end(); };
        if (has("memory"))
            CHECK(read_text(dir + (layout.version == CgroupVersion::v1 ? "/memory.limit_in_bytes" : "/memory.max")) ==
                  "33554432");
        if (has("pids")) CHECK(read_text(dir + "/pids.max") == "16");
    }

    // The outer process detached the host's old root in PID 1's mount namespace.
    const std::string mountinfo = "/proc/" + std::to_string(pid1) + "/mountinfo";
    w.run_until([&] {
        std::ifstream in(mountinfo);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return !text.empty() && text.find("/.oldroot") == std::string::npos;
    }, std::chrono::seconds(2));

    // The pool is full again, with other processes.
    w.wait_for_pool(2);
    w.run_until([&] { return waiting_pids(w).size() == 4; }, std::chrono::seconds(5));

    w.manager->stop(*id, std::chrono::seconds(1));
    w.run_until([&] { return !w.events.exits.empty(); });
    CHECK(w.events.exits[0].second.reason == ExitInfo::Reason::stopped);
}

TEST_CASE("a start from the warm pool still enforces the memory limit and reports OOM") {
    World w;
    w.wait_for_pool(2);
    auto id = w.manager->start(
        w.task("hog", R"j(["/usr/bin/python3","-c","x = b'a' * (512 << 20); print(len(x))"])j"), w.events);
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
}

TEST_CASE("the pool's processes and cgroups are gone once the manager is") {
    World w;
    w.wait_for_pool(2);
    const auto dirs = waiting_dirs(w);
    const auto parents = w.manager->cgroup_tree().parent_dirs();  // made by the manager
    const auto waiting = pids_in(dirs);
    REQUIRE(waiting.size() == 4);
    w.manager.reset();
    w.run_until([&] {  // the loop reaps the outer processes; their PID 1s die with them
        return std::none_of(waiting.begin(), waiting.end(), running);
    }, std::chrono::seconds(5));
    for (const auto& dir : dirs) CHECK_MESSAGE(!fs::exists(dir), dir << " left behind");
    for (const auto& dir : parents) CHECK_MESSAGE(!fs::exists(dir), dir << " left behind");
}

TEST_CASE("with no pool every start spawns gaffer-init, and there is no waiting cgroup") {
    World w([](EnvironmentSettings& s) { s.init_pool_size = 0; });
    CHECK(waiting_dirs(w).empty());
    auto id = w.manager->start(w.task("echo", R"(["/bin/sh","/task/echo.sh"])"), w.events);
    REQUIRE_MESSAGE(id, id.error().message);
    w.run_until([&] { return !w.events.ready.empty() || !w.events.exits.empty(); });
    REQUIRE_MESSAGE(w.events.exits.empty(), w.events.exits.front().second.detail);
    CHECK(w.manager->init_pool_waiting() == 0);
    w.manager->invoke(*id, scheduler::Invocation{"inv-1", "echo", "\"cold\"", false});
    w.run_until([&] { return !w.events.results.empty(); });
    CHECK(w.events.results[0].second.payload == "{\"echo\":\"cold\"}\n");
    w.manager->stop(*id, std::chrono::seconds(1));
    w.run_until([&] { return !w.events.exits.empty(); });
}

// A waiting gaffer-init has already copied the host's mounts; gafferd watches its mount
// table and replaces the waiting processes when it changes, so a task never starts on a
// stale copy.
TEST_CASE("a host mount made while the pool waits is what the next task sees") {
    World w;
    w.wait_for_pool(2);
    const auto before = waiting_pids(w);
    REQUIRE(before.size() == 4);

    char tmpl[] = "/srv/gaffer-pool-test-XXXXXX";  // /srv: one of the host directories tasks see
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    const std::string mountpoint = tmpl;
    struct Unmount {
        std::string path;
        ~Unmount() {
            ::umount2(path.c_str(), MNT_DETACH);
            ::rmdir(path.c_str());
        }
    } unmount{mountpoint};
    REQUIRE(::mount("tmpfs", mountpoint.c_str(), "tmpfs", 0, "size=64k") == 0);
    std::ofstream(mountpoint + "/marker") << "mounted after the pool filled";

    // The old processes go and new ones take their place.
    w.run_until([&] {
        auto now = waiting_pids(w);
        return now.size() == 4 && std::none_of(now.begin(), now.end(), [&](pid_t p) { return contains(before, p); });
    }, std::chrono::seconds(5));
    const auto after = waiting_pids(w);
    CHECK(after.size() == 4);
    for (pid_t pid : before) CHECK_MESSAGE(!contains(after, pid), "pid " << pid << " still waits");

    std::ofstream(w.scratch.root + "/tasks/echo/show.sh") << "cat " << mountpoint << "/marker\n";
    auto id = w.manager->start(w.task("show", R"(["/bin/sh","/task/show.sh"])"), w.events);
    REQUIRE_MESSAGE(id, id.error().message);
    w.run_until([&] { return !w.events.ready.empty() || !w.events.exits.empty(); });
    REQUIRE_MESSAGE(w.events.exits.empty(), w.events.exits.front().second.detail);
    CHECK_MESSAGE(contains(after, w.manager->list()[0].pid), "the environment should have come from the pool");
    w.manager->invoke(*id, scheduler::Invocation{"inv-show", "show", "{}", false});
    w.run_until([&] { return !w.events.results.empty() || !w.events.exits.empty(); });
    REQUIRE(w.events.results.size() == 1);
    CHECK(w.events.results[0].second.payload == "mounted after the pool filled");
    w.manager->stop(*id, std::chrono::seconds(1));
    w.run_until([&] { return !w.events.exits.empty(); });
}
