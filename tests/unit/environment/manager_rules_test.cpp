// The pure parts of the EnvironmentManager: result and exit translation, identity, and
// the launch spec built from a manifest.
#include <doctest/doctest.h>

#include <unistd.h>

#include "tasks/environment/detail/exit_report.hpp"
#include "tasks/environment/detail/launch.hpp"

using namespace gaffer;
using namespace gaffer::environment;
using namespace gaffer::environment::detail;
using scheduler::ExitInfo;
using scheduler::Status;

TEST_CASE("result statuses map to scheduler statuses, OOM kills win over crashes") {
    CHECK(outcome_of("ok", "", "hi", false, 1).status == Status::ok);
    CHECK(outcome_of("ok", "", "hi", false, 1).payload == "hi");
    CHECK(outcome_of("function_error", "boom", "{}", false, 1).status == Status::function_error);
    CHECK(outcome_of("timeout", "late", "", true, 1).status == Status::timeout);
    auto crashed = outcome_of("crashed", "killed by signal 9", "", false, 1);
    CHECK(crashed.status == Status::crashed);
    CHECK(crashed.detail == "killed by signal 9");
    auto oom = outcome_of("crashed", "killed by signal 9", "", true, 33554432);
    CHECK(oom.status == Status::out_of_memory);
    CHECK(oom.detail == "memory limit of 33554432 bytes exceeded");
    CHECK(outcome_of("function_error", "killed by signal 9", "", true, 1).status == Status::out_of_memory);
    auto odd = outcome_of("weird", "x", "", false, 1);
    CHECK(odd.status == Status::crashed);
    CHECK(odd.detail.find("weird") != std::string::npos);
}

TEST_CASE("exit reasons") {
    ExitFacts f;
    f.ready = true;
    f.exited = ExitFrame{"exited", 0, 0, "the task exited with status 0"};
    CHECK(exit_info_of(f, 1).reason == ExitInfo::Reason::exited);

    f.exited = ExitFrame{"crashed", 0, 11, "the task killed by signal 11"};
    auto crashed = exit_info_of(f, 1);
    CHECK(crashed.reason == ExitInfo::Reason::crashed);
    CHECK(crashed.code == 11);

    ExitFacts oom = f;
    oom.oom_kills_final = 1;
    auto info = exit_info_of(oom, 1024);
    CHECK(info.reason == ExitInfo::Reason::out_of_memory);
    CHECK(info.detail == "memory limit of 1024 bytes exceeded");
    oom.oom_kills_reported = 1;  // already blamed on an invocation's result
    CHECK(exit_info_of(oom, 1024).reason == ExitInfo::Reason::crashed);

    ExitFacts stopped = f;
    stopped.stop_requested = true;
    stopped.exited = ExitFrame{"stopped", 0, 0, "shut down by gafferd"};
    CHECK(exit_info_of(stopped, 1).reason == ExitInfo::Reason::stopped);

    ExitFacts init = f;
    init.init_error = "handler not found";
    CHECK(exit_info_of(init, 1).reason == ExitInfo::Reason::init_error);
    CHECK(exit_info_of(init, 1).detail == "handler not found");

    ExitFacts setup;
    setup.exited = ExitFrame{"setup_failed", 0, 0, "mount /task: No such file or directory"};
    CHECK(exit_info_of(setup, 1).reason == ExitInfo::Reason::init_error);
    CHECK(exit_info_of(setup, 1).detail == "mount /task: No such file or directory");

    ExitFacts silent;  // died before ready without a word
    silent.exit_status = 2;
    auto early = exit_info_of(silent, 1);
    CHECK(early.reason == ExitInfo::Reason::init_error);
    CHECK(early.detail == "gaffer-init exited with status 2 before the environment was ready");

    ExitFacts vanished;  // ready, then killed without an exited frame
    vanished.ready = true;
    vanished.term_signal = 9;
    auto gone = exit_info_of(vanished, 1);
    CHECK(gone.reason == ExitInfo::Reason::crashed);
    CHECK(gone.code == 9);
    CHECK(gone.detail == "gaffer-init was killed by signal 9");
}

TEST_CASE("identity: numeric users, named users, root refused unless allowed") {
    manifest::Manifest m;
    m.name = "t";
    m.user = "1234";
    auto numeric = resolve_identity(m, "nobody", false);
    REQUIRE(numeric);
    CHECK(numeric->uid == 1234);
    m.group = "4321";
    CHECK(resolve_identity(m, "nobody", false)->gid == 4321);

    m.user = "root";
    m.group.clear();
    auto root = resolve_identity(m, "nobody", false);
    REQUIRE_FALSE(root);
    CHECK(root.error().code == base::Errc::denied);
    CHECK(root.error().message.find("allow_root_tasks") != std::string::npos);
    CHECK(resolve_identity(m, "nobody", true)->uid == 0);
    m.user = "0";
    CHECK(resolve_identity(m, "nobody", false).error().code == base::Errc::denied);

    m.user.clear();  // the default user
    auto nobody = resolve_identity(m, "nobody", false);
    REQUIRE(nobody);
    CHECK(nobody->uid == 65534);

    m.user = "no-such-user-gaffer";
    auto missing = resolve_identity(m, "nobody", false);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == base::Errc::not_found);
    m.user = "nobody";
    m.group = "no-such-group-gaffer";
    CHECK(resolve_identity(m, "nobody", false).error().code == base::Errc::not_found);
}

TEST_CASE("the launch spec carries the manifest, the identity and the daemon's settings") {
    manifest::Manifest m;
    m.name = "echo";
    m.version = "7";
    m.command = {"/task/echo.sh", "-x"};
    m.artifact_dir = "/var/lib/gaffer/tasks/echo";
    m.environment = {{"A", "1"}};
    m.interface = manifest::Interface::process;
    m.mode = manifest::Mode::long_lived;
    m.timeout = std::chrono::milliseconds(1500);
    m.limits = manifest::Limits{32u << 20, 500, 16};
    m.resources = {manifest::LocalResource{manifest::LocalResource::Kind::device, "/dev/ttyS0", "", true}};
    EnvironmentSettings s;
    s.log_dir = "/var/log/gaffer/tasks";
    s.state_dir = "/var/lib/gaffer/state";
    s.tasks_root = "/var/lib/gaffer/tasks";
    s.runtime_api_port = 9009;

    auto spec = make_launch_spec(m, Identity{1000, 1001}, s, {"/cg/a/cgroup.procs"});
    CHECK(spec.task == "echo");
    CHECK(spec.hostname == "echo");
    CHECK(spec.interface == "process");
    CHECK(spec.mode == "long-lived");
    CHECK(spec.timeout_ms == 1500);
    CHECK(spec.uid == 1000);
    CHECK(spec.gid == 1001);
    CHECK(spec.network == "host");
    CHECK(spec.runtime_api_port == 0);
    CHECK(spec.cgroup_procs == std::vector<std::string>{"/cg/a/cgroup.procs"});
    CHECK(spec.log_path == "/var/log/gaffer/tasks/echo.log");
    CHECK(spec.hidden_paths ==
          std::vector<std::string>{"/var/lib/gaffer/state", "/var/log/gaffer/tasks", "/var/lib/gaffer/tasks"});
    REQUIRE(spec.resources.size() == 1);
    CHECK(spec.resources[0].target == "/dev/ttyS0");
    CHECK(spec.resources[0].device);
    CHECK(spec.resources[0].writable);
    CHECK(spec.environment == std::vector<std::pair<std::string, std::string>>{{"A", "1"}});
    CHECK(spec.memory_bytes == (32u << 20));
    CHECK(spec.version == "7");

    m.network = manifest::Network::none;
    CHECK(make_launch_spec(m, Identity{}, s, {}).runtime_api_port == 9009);
    // The spec must pass gaffer-init's strict parser.
    auto round = runtime::parse_launch_spec(runtime::to_json(make_launch_spec(m, Identity{}, s, {"/x/cgroup.procs"})));
    CHECK_MESSAGE(round, (round ? "" : round.error().message));

    auto limits = limits_of(m);
    CHECK(limits.memory_bytes == (32u << 20));
    CHECK(limits.cpu_millis == 500);
    CHECK(limits.pids == 16);
}
