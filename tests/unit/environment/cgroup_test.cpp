#include <doctest/doctest.h>

#include <sys/mount.h>
#include <unistd.h>

#include "fake_cgroupfs.hpp"

using namespace gaffer;
using namespace gaffer::environment;
using fake::put;
using fake::slurp;
namespace det = gaffer::environment::detail;

namespace {

// This machine's hybrid layout, trimmed: v1 controllers, a cgroup2 mount with hugetlb only.
std::string hybrid_mountinfo(const std::string& root) {
    return "31 23 0:28 / " + root + " rw,relatime - tmpfs tmpfs rw,mode=755\n"
           "32 31 0:29 / " + root + "/cpu rw,relatime - cgroup cgroup rw,cpu\n"
           "33 31 0:30 / " + root + "/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
           "35 31 0:32 / " + root + "/memory rw,relatime - cgroup cgroup rw,memory\n"
           "39 31 0:36 / " + root + "/pids rw,relatime - cgroup cgroup rw,pids\n"
           "41 31 0:38 / " + root + "/unified rw,relatime - cgroup2 cgroup2 rw\n"
           "50 23 0:40 / /proc rw - proc proc rw\n";
}
const char* kHybridSelf =
    "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n2:cpuacct:/\n1:cpu:/\n0::/\n";

struct V1Fixture {
    fake::TempDir tmp;
    fake::FakeCgroupFs fs;
    CgroupLayout layout;

    V1Fixture() {
        const std::string& r = tmp.path();
        fs.files_of_mount[r + "/memory"] = {{"cgroup.procs", ""},
                                            {"memory.limit_in_bytes", "9223372036854771712\n"},
                                            {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"},
                                            {"memory.failcnt", "0\n"},
                                            {"memory.usage_in_bytes", "0\n"},
                                            {"memory.max_usage_in_bytes", "0\n"}};
        fs.files_of_mount[r + "/cpu"] = {{"cgroup.procs", ""},
                                         {"cpu.cfs_period_us", "100000\n"},
                                         {"cpu.cfs_quota_us", "-1\n"},
                                         {"cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n"}};
        fs.files_of_mount[r + "/pids"] = {{"cgroup.procs", ""}, {"pids.max", "max\n"},
                                          {"pids.events", "max 0\n"}};
        for (const char* m : {"/memory", "/cpu", "/pids", "/unified"}) {
            std::filesystem::create_directories(r + m);
            fs.populate(r + m);
        }
        std::filesystem::create_directories(r + "/memory/process_api/abc");
        fs.populate(r + "/memory/process_api/abc");
        put(r + "/unified/cgroup.controllers", "hugetlb\n");
        auto detected = detect_layout(hybrid_mountinfo(r), kHybridSelf, fs);
        REQUIRE(detected);
        layout = *detected;
    }

    CgroupTree tree(const std::string& parent = "gaffer") {
        auto t = CgroupTree::open(layout, {parent, false}, fs);
        REQUIRE(t);
        return std::move(*t);
    }
};

struct V2Fixture {
    fake::TempDir tmp;
    fake::FakeCgroupFs fs;
    std::string mount;
    std::string own_dir;

    explicit V2Fixture(bool swap = true) {
        mount = tmp.path() + "/cg";
        std::map<std::string, std::string> files{
            {"cgroup.procs", ""},           {"cgroup.controllers", "cpuset cpu io memory pids\n"},
            {"cgroup.subtree_control", ""}, {"cgroup.kill", ""},
            {"memory.max", "max\n"},        {"cpu.max", "max 100000\n"},
            {"pids.max", "max\n"},          {"memory.current", "0\n"},
            {"memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"},
            {"pids.events", "max 0\n"},     {"cpu.stat", "usage_usec 0\nnr_throttled 0\nthrottled_usec 0\n"}};
        if (swap) files["memory.swap.max"] = "max\n";
        fs.files_of_mount[mount] = files;
        own_dir = mount + "/system.slice/gafferd.service";
        std::filesystem::create_directories(own_dir);
        fs.populate(mount);
        fs.populate(mount + "/system.slice");
        fs.populate(own_dir);
        put(mount + "/cgroup.subtree_control", "cpu io memory pids\n");
        put(mount + "/system.slice/cgroup.subtree_control", "cpu io memory pids\n");
        put(own_dir + "/cgroup.procs", std::to_string(::getpid()) + "\n");
    }

    CgroupLayout layout() {
        std::string mountinfo = "30 1 0:26 / " + mount + " rw - cgroup2 cgroup2 rw,nsdelegate\n";
        auto l = detect_layout(mountinfo, "0::/system.slice/gafferd.service\n", fs);
        REQUIRE(l);
        return *l;
    }
};

}  // namespace

TEST_CASE("parse_keyed reads memory.events, oom_control, pids.events and cpu.stat") {
    auto events = det::parse_keyed("low 0\nhigh 3\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n");
    CHECK(events.at("oom_kill") == 1);
    CHECK(events.at("max") == 7);
    auto oom = det::parse_keyed("oom_kill_disable 0\nunder_oom 1\noom_kill 4\n");
    CHECK(oom.at("oom_kill") == 4);
    CHECK(oom.at("under_oom") == 1);
    auto stat = det::parse_keyed("nr_periods 12\nnr_throttled 9\nthrottled_time 123456789\nbogus x\n");
    CHECK(stat.at("nr_throttled") == 9);
    CHECK(stat.at("throttled_time") == 123456789);
    CHECK(stat.count("bogus") == 0);
}

TEST_CASE("parse_number, parse_pids and parse_proc_cgroup") {
    CHECK(*det::parse_number("4096\n") == 4096);
    CHECK(*det::parse_number("max\n") == UINT64_MAX);
    CHECK_FALSE(det::parse_number("12k"));
    CHECK(*det::parse_pids("12\n345\n") == std::vector<pid_t>{12, 345});
    CHECK(det::parse_pids("").value().empty());
    CHECK_FALSE(det::parse_pids("12\nabc\n"));
    auto paths = det::parse_proc_cgroup("2:cpu,cpuacct:/a\n0::/b/c\n");
    REQUIRE(paths);
    CHECK(paths->at("cpu") == "/a");
    CHECK(paths->at("cpuacct") == "/a");
    CHECK(paths->at("") == "/b/c");
    CHECK_FALSE(det::parse_proc_cgroup("garbage\n"));
}

TEST_CASE("mountinfo octal escapes are decoded") {
    auto mounts = det::parse_mountinfo("35 31 0:32 / /sys/fs/my\\040cg rw - cgroup cgroup rw,memory\n");
    REQUIRE(mounts);
    REQUIRE(mounts->size() == 1);
    CHECK(mounts->front().mount_point == "/sys/fs/my cg");
    CHECK(mounts->front().super_options == std::vector<std::string>{"rw", "memory"});
}

TEST_CASE("detect_layout on a v1/v2 hybrid picks the v1 mounts and each own cgroup") {
    V1Fixture f;
    CHECK(f.layout.version == CgroupVersion::v1);
    REQUIRE(f.layout.hierarchies.size() == 3);
    CHECK(f.layout.hierarchies[0].controllers == std::vector<std::string>{"memory"});
    CHECK(f.layout.hierarchies[0].mount == f.tmp.path() + "/memory");
    CHECK(f.layout.hierarchies[0].own == "process_api/abc");
    CHECK(f.layout.hierarchies[1].controllers == std::vector<std::string>{"cpu"});
    CHECK(f.layout.hierarchies[1].own == "");
    CHECK(f.layout.hierarchies[2].mount == f.tmp.path() + "/pids");
}

TEST_CASE("detect_layout on pure v2 uses the cgroup2 mount with controllers") {
    V2Fixture f;
    auto layout = f.layout();
    CHECK(layout.version == CgroupVersion::v2);
    REQUIRE(layout.hierarchies.size() == 1);
    CHECK(layout.hierarchies[0].controllers == std::vector<std::string>{"memory", "cpu", "pids"});
    CHECK(layout.hierarchies[0].own == "system.slice/gafferd.service");
}

TEST_CASE("detect_layout strips a container's mount root and reports missing controllers") {
    fake::FakeCgroupFs fs;
    std::string mi =
        "35 31 0:32 /process_api/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
        "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
    auto layout = detect_layout(mi, "4:memory:/process_api/abc/inner\n1:cpu:/\n8:pids:/\n", fs);
    REQUIRE(layout);
    CHECK(layout->hierarchies[0].own == "inner");

    auto outside = detect_layout(mi, "4:memory:/elsewhere\n1:cpu:/\n8:pids:/\n", fs);
    REQUIRE_FALSE(outside);
    CHECK(outside.error().code == base::Errc::unavailable);

    auto no_pids = detect_layout(
        "35 31 0:32 / /m rw - cgroup cgroup rw,memory\n32 31 0:29 / /c rw - cgroup cgroup rw,cpu\n",
        "4:memory:/\n1:cpu:/\n", fs);
    REQUIRE_FALSE(no_pids);
    CHECK(no_pids.error().code == base::Errc::unavailable);
    CHECK(no_pids.error().message.find("\"pids\"") != std::string::npos);
}

TEST_CASE("v1: create writes the v1 limit files under the daemon's own cgroups") {
    V1Fixture f;
    auto tree = f.tree();
    const std::string& r = f.tmp.path();
    CHECK(tree.parent_dirs() == std::vector<std::string>{r + "/memory/process_api/abc/gaffer",
                                                         r + "/cpu/gaffer", r + "/pids/gaffer"});
    auto group = tree.create("echo-1", CgroupLimits{32u << 20, 200, 16});
    REQUIRE(group);
    CHECK(slurp(r + "/memory/process_api/abc/gaffer/echo-1/memory.limit_in_bytes") == "33554432");
    CHECK(slurp(r + "/cpu/gaffer/echo-1/cpu.cfs_period_us") == "100000");
    CHECK(slurp(r + "/cpu/gaffer/echo-1/cpu.cfs_quota_us") == "20000");
    CHECK(slurp(r + "/pids/gaffer/echo-1/pids.max") == "16");
    CHECK(group->procs_files() ==
          std::vector<std::string>{r + "/memory/process_api/abc/gaffer/echo-1/cgroup.procs",
                                   r + "/cpu/gaffer/echo-1/cgroup.procs",
                                   r + "/pids/gaffer/echo-1/cgroup.procs"});

    auto again = tree.create("echo-1", CgroupLimits{});
    REQUIRE_FALSE(again);
    CHECK(again.error().code == base::Errc::conflict);
}

TEST_CASE("v1 and v2 settings for no CPU and no pids limit") {
    auto v1 = det::v1_settings(CgroupLimits{1 << 20, 0, 0});
    CHECK(v1[2].file == "cpu.cfs_quota_us");
    CHECK(v1[2].value == "-1");
    CHECK(v1[3].value == "max");
    auto v2 = det::v2_settings(CgroupLimits{1 << 20, 0, 0}, false);
    REQUIRE(v2.size() == 3);
    CHECK(v2[1].value == "max 100000");
    CHECK(v2[2].value == "max");
    // The kernel refuses a quota below 1 ms.
    CHECK(det::v2_settings(CgroupLimits{1 << 20, 1, 1}, false)[1].value == "1000 100000");
}

TEST_CASE("v1: stats come from oom_control, pids.events and cpu.stat") {
    V1Fixture f;
    auto tree = f.tree();
    auto group = tree.create("s", CgroupLimits{});
    REQUIRE(group);
    const std::string& r = f.tmp.path();
    put(r + "/memory/process_api/abc/gaffer/s/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    put(r + "/memory/process_api/abc/gaffer/s/memory.max_usage_in_bytes", "5000\n");
    put(r + "/pids/gaffer/s/pids.events", "max 5\n");
    put(r + "/cpu/gaffer/s/cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 3000000\n");
    put(r + "/pids/gaffer/s/cgroup.procs", "100\n101\n");
    put(r + "/cpu/gaffer/s/cgroup.procs", "101\n");
    auto stats = group->stats();
    REQUIRE(stats);
    CHECK(stats->oom_kills == 2);
    CHECK(stats->memory_peak == 5000);
    CHECK(stats->pids_max_hits == 5);
    CHECK(stats->nr_throttled == 4);
    CHECK(stats->throttled_usec == 3000);
    CHECK(stats->processes == 2);

    // Before 4.13 oom_control has no oom_kill line: failcnt stands in.
    put(r + "/memory/process_api/abc/gaffer/s/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
    put(r + "/memory/process_api/abc/gaffer/s/memory.failcnt", "9\n");
    CHECK(group->stats()->oom_kills == 9);
    CHECK(group->oom_kills() == 9);
}

TEST_CASE("v1: kill SIGKILLs every listed process and remove deletes every directory") {
    V1Fixture f;
    auto tree = f.tree();
    auto group = tree.create("k", CgroupLimits{});
    REQUIRE(group);
    const std::string& r = f.tmp.path();
    put(r + "/pids/gaffer/k/cgroup.procs", "4242\n4243\n");
    put(r + "/memory/process_api/abc/gaffer/k/cgroup.procs", "4242\n4243\n");
    REQUIRE(group->remove());
    std::sort(f.fs.killed.begin(), f.fs.killed.end());
    f.fs.killed.erase(std::unique(f.fs.killed.begin(), f.fs.killed.end()), f.fs.killed.end());
    CHECK(f.fs.killed == std::vector<pid_t>{4242, 4243});
    for (const auto& dir : group->dirs()) CHECK_FALSE(std::filesystem::exists(dir));
    CHECK(std::filesystem::exists(r + "/pids/gaffer"));
    CHECK(group->remove());  // idempotent
}

TEST_CASE("v1: cleanup_stale kills and removes what a crashed daemon left") {
    V1Fixture f;
    {
        auto tree = f.tree();
        REQUIRE(tree.create("old-1", CgroupLimits{}));
        REQUIRE(tree.create("old-2", CgroupLimits{}));
        put(f.tmp.path() + "/cpu/gaffer/old-2/cgroup.procs", "777\n");
    }
    auto tree = f.tree();
    auto removed = tree.cleanup_stale();
    REQUIRE(removed);
    CHECK(*removed == 2);
    CHECK(f.fs.killed == std::vector<pid_t>{777});
    for (const auto& dir : tree.parent_dirs()) {
        CHECK(std::filesystem::exists(dir));
        CHECK(f.fs.list_dirs(dir).value().empty());
    }
    CHECK(*tree.cleanup_stale() == 0);
}

TEST_CASE("v2: open moves the daemon into a leaf and enables controllers on the way") {
    V2Fixture f;
    auto tree = CgroupTree::open(f.layout(), {"gaffer", false}, f.fs);
    REQUIRE(tree);
    CHECK(slurp(f.own_dir + "/gafferd/cgroup.procs") == std::to_string(::getpid()) + "\n");
    CHECK(slurp(f.own_dir + "/cgroup.procs") == "");
    CHECK(slurp(f.own_dir + "/cgroup.subtree_control") == "cpu memory pids\n");
    CHECK(slurp(f.own_dir + "/gaffer/cgroup.subtree_control") == "cpu memory pids\n");
    CHECK(tree->parent_dirs() == std::vector<std::string>{f.own_dir + "/gaffer"});

    // The daemon now reads its cgroup as .../gafferd: a later tree finds the same parent,
    // but only once the first has let go of it.
    auto layout = f.layout();
    layout.hierarchies[0].own += "/gafferd";
    auto busy = CgroupTree::open(layout, {"gaffer", false}, f.fs);
    REQUIRE_FALSE(busy);
    CHECK(busy.error().code == base::Errc::busy);
    CHECK(busy.error().message.find("cgroup_parent") != std::string::npos);
    auto first_dirs = tree->parent_dirs();
    tree = base::fail(base::Errc::io, "released");
    auto second = CgroupTree::open(layout, {"gaffer", false}, f.fs);
    REQUIRE(second);
    CHECK(second->parent_dirs() == first_dirs);
}

TEST_CASE("v2: create writes memory.max, memory.swap.max, cpu.max, pids.max") {
    V2Fixture f;
    auto tree = CgroupTree::open(f.layout(), {"gaffer", false}, f.fs);
    REQUIRE(tree);
    auto group = tree->create("t-7", CgroupLimits{64u << 20, 500, 32});
    REQUIRE(group);
    std::string dir = f.own_dir + "/gaffer/t-7";
    CHECK(slurp(dir + "/memory.max") == "67108864");
    CHECK(slurp(dir + "/memory.swap.max") == "0");
    CHECK(slurp(dir + "/cpu.max") == "50000 100000");
    CHECK(slurp(dir + "/pids.max") == "32");
    CHECK(group->procs_files() == std::vector<std::string>{dir + "/cgroup.procs"});
}

TEST_CASE("v2: no memory.swap.max is written when the kernel has no swap accounting") {
    V2Fixture f(false);
    auto tree = CgroupTree::open(f.layout(), {"gaffer", false}, f.fs);
    REQUIRE(tree);
    auto group = tree->create("t", CgroupLimits{});
    REQUIRE(group);
    CHECK_FALSE(std::filesystem::exists(f.own_dir + "/gaffer/t/memory.swap.max"));
}

TEST_CASE("v2: stats, cgroup.kill and remove") {
    V2Fixture f;
    auto tree = CgroupTree::open(f.layout(), {"gaffer", false}, f.fs);
    REQUIRE(tree);
    auto group = tree->create("t", CgroupLimits{});
    REQUIRE(group);
    std::string dir = f.own_dir + "/gaffer/t";
    put(dir + "/memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n");
    put(dir + "/pids.events", "max 3\n");
    put(dir + "/cpu.stat", "usage_usec 900\nnr_periods 20\nnr_throttled 6\nthrottled_usec 4400\n");
    put(dir + "/memory.current", "8192\n");
    put(dir + "/cgroup.procs", "900\n901\n");
    auto stats = group->stats();
    REQUIRE(stats);
    CHECK(stats->oom_kills == 1);
    CHECK(stats->pids_max_hits == 3);
    CHECK(stats->nr_throttled == 6);
    CHECK(stats->throttled_usec == 4400);
    CHECK(stats->memory_current == 8192);
    CHECK(stats->processes == 2);
    CHECK(group->oom_kills() == 1);

    REQUIRE(group->remove());
    CHECK(f.fs.kill_files_written == std::vector<std::string>{dir + "/cgroup.kill"});
    CHECK(f.fs.killed.empty());
    CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("v2: a cgroup that lacks a controller is refused with a clear error") {
    V2Fixture f;
    put(f.own_dir + "/cgroup.controllers", "cpu memory\n");
    auto tree = CgroupTree::open(f.layout(), {"gaffer", false}, f.fs);
    REQUIRE_FALSE(tree);
    CHECK(tree.error().code == base::Errc::unavailable);
    CHECK(tree.error().message.find("Delegate=yes") != std::string::npos);
}

TEST_CASE("names are checked") {
    V1Fixture f;
    CHECK(CgroupTree::open(f.layout, {"../escape", false}, f.fs).error().code == base::Errc::invalid);
    CHECK(CgroupTree::open(f.layout, {"", false}, f.fs).error().code == base::Errc::invalid);
    auto tree = f.tree("gaffer/nested");
    CHECK(tree.parent_dirs()[1] == f.tmp.path() + "/cpu/gaffer/nested");
    CHECK(tree.create("a/b", CgroupLimits{}).error().code == base::Errc::invalid);
    CHECK(tree.create("..", CgroupLimits{}).error().code == base::Errc::invalid);
}

TEST_CASE("remove: an empty cgroup goes without kill; a child cgroup is removed depth first") {
    V2Fixture f;
    auto tree = CgroupTree::open(f.layout(), {"gaffer", false}, f.fs);
    REQUIRE(tree);
    auto empty = tree->create("e", CgroupLimits{});
    REQUIRE(empty);
    REQUIRE(empty->remove());
    CHECK(f.fs.kill_files_written.empty());
    CHECK_FALSE(std::filesystem::exists(f.own_dir + "/gaffer/e"));

    auto nested = tree->create("n", CgroupLimits{});
    REQUIRE(nested);
    const std::string child = f.own_dir + "/gaffer/n/inner";
    REQUIRE(f.fs.make_dir(child));
    put(child + "/cgroup.procs", "77\n");
    REQUIRE(nested->remove());
    CHECK(f.fs.killed == std::vector<pid_t>{77});
    CHECK_FALSE(std::filesystem::exists(f.own_dir + "/gaffer/n"));
}

TEST_CASE("favordynmods: detected in the super options, remount repeats every option") {
    auto mounts = det::parse_mountinfo(
        "41 31 0:38 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
        "rw,nsdelegate,memory_recursiveprot\n"
        "42 31 0:39 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n");
    REQUIRE(mounts);
    REQUIRE(det::favordynmods_state(*mounts) == det::DynmodsState::missing);
    auto r = det::favordynmods_remount(*mounts);
    CHECK(r.target == "/sys/fs/cgroup");
    CHECK(r.data == "nsdelegate,memory_recursiveprot,favordynmods");
    CHECK(r.flags == (MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME));

    auto set = det::parse_mountinfo("41 31 0:38 / /sys/fs/cgroup/unified ro,relatime - cgroup2 cgroup2 "
                                    "ro,favordynmods\n");
    REQUIRE(set);
    CHECK(det::favordynmods_state(*set) == det::DynmodsState::set);
    auto v1_only = det::parse_mountinfo("42 31 0:39 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n");
    REQUIRE(v1_only);
    CHECK(det::favordynmods_state(*v1_only) == det::DynmodsState::no_cgroup2);
    CHECK(det::set_favordynmods("42 31 0:39 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n")
              .error().code == base::Errc::unavailable);
    CHECK(det::set_favordynmods("41 31 0:38 / /x ro - cgroup2 cgroup2 ro,favordynmods\n").value().empty());
}

TEST_CASE("remove_created_dirs removes what open() made, deepest first, and leaves what existed") {
    V1Fixture f;
    // memory's own cgroup (process_api/abc) exists; cpu and pids have none below the root.
    std::filesystem::create_directories(f.tmp.path() + "/cpu/admin-made");
    f.fs.populate(f.tmp.path() + "/cpu/admin-made");
    auto tree = f.tree("admin-made/gaffer");
    const auto parents = tree.parent_dirs();
    for (const auto& dir : parents) REQUIRE(std::filesystem::exists(dir));
    tree.remove_created_dirs();
    for (const auto& dir : parents) CHECK_MESSAGE(!std::filesystem::exists(dir), dir);
    CHECK(std::filesystem::exists(f.tmp.path() + "/cpu/admin-made"));     // existed before
    CHECK_FALSE(std::filesystem::exists(f.tmp.path() + "/pids/admin-made"));  // made by open()
    CHECK(std::filesystem::exists(f.tmp.path() + "/memory/process_api/abc"));
}
