#include <doctest/doctest.h>

#include <string>

#include "tasks/manifest/manifest.hpp"

using namespace gaffer;

namespace {

// The required fields, then `extra` members (may be empty).
std::string with(const std::string& extra, const std::string& command = R"(["run"])") {
    std::string text = R"({"name": "echo", "version": "1", "owner": "alice", "artifact_dir": "/opt/echo", "command": )" +
                       command;
    if (!extra.empty()) text += ", " + extra;
    return text + "}";
}

struct BadCase {
    std::string text;
    std::string message;  // the whole expected message
};

}  // namespace

TEST_CASE("bad manifests are refused with the field's path and the reason") {
    const BadCase cases[] = {
        // required fields
        {R"({"version": "1", "owner": "a", "command": ["x"], "artifact_dir": "/a"})", "name: required field is missing"},
        {R"({"name": "a", "owner": "a", "command": ["x"], "artifact_dir": "/a"})", "version: required field is missing"},
        {R"({"name": "a", "version": "1", "command": ["x"], "artifact_dir": "/a"})", "owner: required field is missing"},
        {R"({"name": "a", "version": "1", "owner": "a", "artifact_dir": "/a"})", "command: required field is missing"},
        {R"({"name": "a", "version": "1", "owner": "a", "command": ["x"]})", "artifact_dir: required field is missing"},
        // unknown fields, at every level
        {R"({"name": "a", "version": "1", "owner": "a", "comand": ["x"], "artifact_dir": "/a"})",
         "unknown field \"comand\" (did you mean \"command\"?)"},
        {with(R"("colour": "red")"), "unknown field \"colour\""},
        {with(R"("limits": {"mem": "64M"})"), "limits: unknown field \"mem\" (did you mean \"memory\"?)"},
        {with(R"("resources": [{"type": "directory", "source": "/a", "writeable": true}])"),
         "resources[0]: unknown field \"writeable\" (did you mean \"writable\"?)"},
        // malformed documents
        {R"({"name": "a",)", "malformed JSON at byte 14: syntax error while parsing object key - unexpected end of input; expected string literal"},
        {"[1, 2]", "manifest must be a JSON object, not an array"},
        {R"({"name": "a", "name": "b"})", "duplicate field \"name\""},
        {with(R"("limits": {"pids": 3, "pids": 4})"), "limits: duplicate field \"pids\""},
        {std::string(65537, ' '), "manifest is 65537 bytes; at most 65536 are allowed"},
        // types
        {R"({"name": 7, "version": "1", "owner": "a", "command": ["x"], "artifact_dir": "/a"})",
         "name: must be a string, not an integer"},
        {with("", R"("run")"), "command: must be an array, not a string"},
        {with("", R"(["run", 3])"), "command[1]: must be a string, not an integer"},
        {with(R"("environment": ["A=1"])"), "environment: must be an object, not an array"},
        {with(R"("environment": {"A": 1})"), "environment.A: must be a string, not an integer"},
        {with(R"("max_concurrency": 2.5)"), "max_concurrency: must be an integer between 1 and 256, not a fraction"},
        {with(R"("resources": [{"type": "directory", "source": "/a", "writable": "yes"}])"),
         "resources[0].writable: must be true or false, not a string"},
        {with(R"("timeout": true)"), "timeout: must be integer milliseconds or a duration string like \"3s\", not a boolean"},
        {with(R"("limits": {"cpu": "half"})"), "limits.cpu: must be a number of CPUs such as 0.5, not a string"},
        // values
        {R"({"name": "Echo", "version": "1", "owner": "a", "command": ["x"], "artifact_dir": "/a"})",
         "name: \"Echo\" is not a valid name (1-63 of a-z 0-9 _ . -, starting with a-z or 0-9)"},
        {R"({"name": "e", "version": "1", "owner": "-bob", "command": ["x"], "artifact_dir": "/a"})",
         "owner: \"-bob\" is not a valid name (1-63 of a-z 0-9 _ . -, starting with a-z or 0-9)"},
        {R"({"name": "e", "version": "", "owner": "a", "command": ["x"], "artifact_dir": "/a"})", "version: must not be empty"},
        {with("", "[]"), "command: must not be empty (command[0] is the program)"},
        {with("", R"(["../escape"])"), "command[0]: \"../escape\" must not contain \"..\" components (relative paths are inside /task)"},
        {with("", R"(["a\u0000b"])"), "command[0]: must not contain a NUL byte"},
        {R"({"name": "e", "version": "1", "owner": "a", "command": ["x"], "artifact_dir": "opt/a"})",
         "artifact_dir: \"opt/a\" must be an absolute path"},
        {with(R"("working_dir": "/task/../etc")"), "working_dir: \"/task/../etc\" must not contain \"..\" components"},
        {with(R"("environment": {"A=B": "1"})"),
         "environment: \"A=B\" is not a valid variable name (letters, digits and _, not starting with a digit)"},
        {with(R"("environment": {"": "1"})"),
         "environment: \"\" is not a valid variable name (letters, digits and _, not starting with a digit)"},
        {with(R"("mode": "sometimes")"), "mode: \"sometimes\" is not one of on-demand, long-lived"},
        {with(R"("interface": "grpc")"), "interface: \"grpc\" is not one of lambda, process"},
        {with(R"("network": "bridge")"), "network: \"bridge\" is not one of host, none"},
        {with(R"("interface": "process", "handler": "main.run")"), "handler: only a task with interface \"lambda\" has a handler"},
        {with(R"("timeout": "3x")"), "timeout: \"3x\" is not a duration (use e.g. 500ms, 3s, 2m)"},
        {with(R"("timeout": 0)"), "timeout: must be between 1ms and 15m (got 0ms)"},
        {with(R"("timeout": "16m")"), "timeout: must be between 1ms and 15m (got 960000ms)"},
        {with(R"("limits": {"memory": "12Q"})"), "limits.memory: \"12Q\" is not a size (use e.g. 64M)"},
        {with(R"("limits": {"memory": "1M"})"), "limits.memory: must be between 4M and 1T (got 1048576 bytes)"},
        {with(R"("limits": {"memory": -5})"), "limits.memory: must be a size string like \"64M\" or a byte count, not negative"},
        {with(R"("limits": {"cpu": 0.001})"), "limits.cpu: must be between 0.01 and 64 (got 0.001)"},
        {with(R"("limits": {"cpu": 65})"), "limits.cpu: must be between 0.01 and 64 (got 65)"},
        {with(R"("limits": {"pids": 0})"), "limits.pids: must be between 1 and 32768 (got 0)"},
        {with(R"("limits": {"pids": 40000})"), "limits.pids: must be between 1 and 32768 (got 40000)"},
        {with(R"("user": "Root User")"), "user: \"Root User\" is not a valid account name ([a-z_][a-z0-9_-]{0,31}) or numeric id"},
        {with(R"("group": "99999999999")"), "group: \"99999999999\" is not a valid numeric id"},
        {with(R"("max_concurrency": 0)"), "max_concurrency: must be between 1 and 256 (got 0)"},
        {with(R"("max_concurrency": 300)"), "max_concurrency: must be between 1 and 256 (got 300)"},
        {with(R"("mode": "long-lived", "max_concurrency": 4)"),
         "max_concurrency: a long-lived task runs as one instance; must be 1 (got 4)"},
        {with(R"("resources": [{"type": "directory", "source": "/a"}, {"type": "device", "source": "dev/ttyS0"}])"),
         "resources[1].source: \"dev/ttyS0\" must be an absolute path"},
        {with(R"("resources": [{"type": "device", "source": "/etc/passwd"}])"),
         "resources[0].source: a device must be under /dev/ (got \"/etc/passwd\")"},
        {with(R"("resources": [{"type": "socket", "source": "/a"}])"), "resources[0].type: \"socket\" is not one of device, directory"},
        {with(R"("resources": [{"source": "/a"}])"), "resources[0].type: required field is missing"},
        {with(R"("resources": [{"type": "directory"}])"), "resources[0].source: required field is missing"},
        {with(R"("resources": [{"type": "directory", "source": "/a", "target": "/task/x"}])"),
         "resources[0].target: \"/task/x\" would cover / or the task's own /task"},
        {with(R"("resources": [{"type": "directory", "source": "/a", "target": "/d"}, {"type": "directory", "source": "/d"}])"),
         "resources[1].target: \"/d\" is already used by resources[0]"},
        {with(R"("resources": [{"type": "directory", "source": "/a", "source": "/b"}])"),
         "resources[0]: duplicate field \"source\""},
        {with(R"("resources": {"type": "directory"})"), "resources: must be an array, not an object"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.text);
        auto result = manifest::parse(c.text);
        REQUIRE_FALSE(result);
        CHECK(result.error().code == base::Errc::invalid);
        CHECK(result.error().message == c.message);
    }
}

TEST_CASE("at most 256 environment variables") {
    std::string env;
    for (int i = 0; i < 257; ++i) env += (i ? ", " : "") + std::string("\"V") + std::to_string(i) + "\": \"x\"";
    auto result = manifest::parse(with("\"environment\": {" + env + "}"));
    REQUIRE_FALSE(result);
    CHECK(result.error().message == "environment: has 257 variables; at most 256 are allowed");
    env.erase(env.rfind(", "));  // 256 is still fine
    CHECK(manifest::parse(with("\"environment\": {" + env + "}")));
}
