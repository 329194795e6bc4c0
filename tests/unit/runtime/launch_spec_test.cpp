#include <doctest/doctest.h>

#include "tasks/runtime/runtime.hpp"

using namespace gaffer::runtime;

namespace {

std::string error_of(std::string_view json) {
    auto r = parse_launch_spec(json);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == gaffer::base::Errc::invalid);
    return r.error().message;
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a minimal launch spec takes the defaults") {
    auto r = parse_launch_spec(R"({"task":"hello","command":["/task/bootstrap"]})");
    REQUIRE(r);
    CHECK(r->task == "hello");
    CHECK(r->command == std::vector<std::string>{"/task/bootstrap"});
    CHECK(r->interface == "lambda");
    CHECK(r->mode == "on-demand");
    CHECK(r->timeout_ms == 3000);
    CHECK(r->uid == 65534);
    CHECK(r->network == "host");
    CHECK(r->working_dir == "/task");
    CHECK(r->runtime_api_port == 9001);
    CHECK(r->log_keep == 3);
    CHECK(r->service_timeout_ms == 10000);
}

TEST_CASE("to_json and parse_launch_spec round trip every field") {
    LaunchSpec s;
    s.task = "sensor-reader";
    s.command = {"/usr/bin/python3", "/task/main.py", "--flag"};
    s.environment = {{"ZED", "last"}, {"ALPHA", "first=1"}, {"EMPTY", ""}};
    s.working_dir = "/task/sub";
    s.interface = "process";
    s.mode = "long-lived";
    s.handler = "main.handler";
    s.timeout_ms = 12345;
    s.uid = 1001;
    s.gid = 1002;
    s.network = "none";
    s.hostname = "box";
    s.cgroup_procs = {"/sys/fs/cgroup/memory/gaffer/x/cgroup.procs"};
    s.artifact_dir = "/var/lib/gaffer/tasks/x";
    s.resources = {{"/dev/ttyUSB0", "/dev/ttyUSB0", true, true}, {"/srv/data", "/data", false, false}};
    s.hidden_paths = {"/var/lib/gaffer", "/etc/gaffer"};
    s.log_path = "/var/log/gaffer/x.log";
    s.log_max_bytes = 65536;
    s.log_keep = 7;
    s.runtime_api_port = 0;
    s.version = "12";
    s.memory_bytes = 32u << 20;
    s.service_timeout_ms = 250;

    auto r = parse_launch_spec(to_json(s));
    REQUIRE(r);
    CHECK(r->task == s.task);
    CHECK(r->command == s.command);
    CHECK(r->environment == s.environment);  // order is kept
    CHECK(r->working_dir == s.working_dir);
    CHECK(r->interface == s.interface);
    CHECK(r->mode == s.mode);
    CHECK(r->handler == s.handler);
    CHECK(r->timeout_ms == s.timeout_ms);
    CHECK(r->uid == s.uid);
    CHECK(r->gid == s.gid);
    CHECK(r->network == s.network);
    CHECK(r->hostname == s.hostname);
    CHECK(r->cgroup_procs == s.cgroup_procs);
    CHECK(r->artifact_dir == s.artifact_dir);
    REQUIRE(r->resources.size() == 2);
    CHECK(r->resources[0].source == "/dev/ttyUSB0");
    CHECK(r->resources[0].writable);
    CHECK(r->resources[0].device);
    CHECK(r->resources[1].target == "/data");
    CHECK_FALSE(r->resources[1].writable);
    CHECK(r->hidden_paths == s.hidden_paths);
    CHECK(r->log_path == s.log_path);
    CHECK(r->log_max_bytes == s.log_max_bytes);
    CHECK(r->log_keep == s.log_keep);
    CHECK(r->runtime_api_port == 0);
    CHECK(r->version == "12");
    CHECK(r->memory_bytes == s.memory_bytes);
    CHECK(r->service_timeout_ms == 250);
}

TEST_CASE("a resource without a target is mounted at its source") {
    auto r = parse_launch_spec(
        R"({"task":"t","command":["x"],"resources":[{"source":"/dev/i2c-1","device":true}]})");
    REQUIRE(r);
    CHECK(r->resources.at(0).target == "/dev/i2c-1");
}

TEST_CASE("bad launch specs give messages that name the field") {
    CHECK(contains(error_of("{"), "not valid JSON"));
    CHECK(contains(error_of("[]"), "expected a JSON object"));
    CHECK(contains(error_of(R"({"command":["x"]})"), "task: is required"));
    CHECK(contains(error_of(R"({"task":"t"})"), "command: is required"));
    CHECK(contains(error_of(R"({"task":"t","command":[]})"), "command: must name a program"));
    CHECK(contains(error_of(R"({"task":"t","command":["x",1]})"), "command[1]: expected a string, got 1"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"timeout_ms":"3s"})"),
                   "timeout_ms: expected an unsigned integer, got \"3s\""));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"timeout_ms":0})"), "timeout_ms: 0 is out of range"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"uid":-1})"), "uid: expected an unsigned integer"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"runtime_api_port":70000})"),
                   "runtime_api_port: 70000 is out of range"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"interface":"grpc"})"),
                   "interface: \"grpc\" is not \"lambda\" or \"process\""));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"network":"bridge"})"), "network:"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"artifact_dir":"rel/dir"})"),
                   "artifact_dir: \"rel/dir\" is not an absolute path"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"hidden_paths":["/ok","nope"]})"),
                   "hidden_paths[1]: \"nope\" is not an absolute path"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"environment":{"A":1}})"),
                   "environment.A: expected a string"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"environment":{"A=B":"1"}})"),
                   "environment.A=B: a variable name"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"resources":[{"target":"/x"}]})"),
                   "resources[0].source: is required"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"resources":[{"source":"/x","rw":true}]})"),
                   "resources[0].rw: unknown field"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"tiemout_ms":5})"), "tiemout_ms: unknown field"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"log_keep":1000})"), "log_keep: 1000 is out of range"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"hostname":""})"), "hostname: must be 1 to 64"));
    CHECK(contains(error_of(R"({"task":"t","command":["x"],"service_timeout_ms":0})"),
                   "service_timeout_ms: 0 is out of range"));
}
