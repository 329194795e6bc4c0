#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tasks/manifest/manifest.hpp"

using namespace gaffer;
using manifest::Manifest;
using namespace std::chrono_literals;

namespace {

const char* kFull = R"({
  "name": "thermo-filter",
  "version": "1.4.2",
  "owner": "acme",
  "command": ["bin/filter", "--fast"],
  "artifact_dir": "/var/lib/gaffer/artifacts/thermo-filter/1.4.2",
  "working_dir": "/task/run",
  "environment": {"LEVEL": "3", "_MODE": "edge"},
  "mode": "long-lived",
  "interface": "process",
  "timeout": "2m",
  "limits": {"memory": "128M", "cpu": 0.5, "pids": 32},
  "user": "1001",
  "group": "dialout",
  "network": "none",
  "resources": [
    {"type": "device", "source": "/dev/ttyUSB0", "writable": true},
    {"type": "directory", "source": "/srv/data", "target": "/data"}
  ],
  "max_concurrency": 1
})";

const char* kMinimal = R"({"name": "echo", "version": "1", "owner": "alice",
  "command": ["/task/echo.py"], "artifact_dir": "/opt/echo"})";

// A minimal valid manifest with `patch` spliced in as extra top-level members (a later
// duplicate of a key would be a duplicate-key error, so patches use keys not set above).
std::string minimal_with(const std::string& patch) {
    std::string base = R"({"name": "echo", "version": "1", "owner": "alice", "artifact_dir": "/opt/echo")";
    return base + ", " + patch + "}";
}

}  // namespace

TEST_CASE("a full manifest parses into every field") {
    auto m = manifest::parse(kFull);
    REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
    CHECK(m->name == "thermo-filter");
    CHECK(m->version == "1.4.2");
    CHECK(m->owner == "acme");
    CHECK(m->command == std::vector<std::string>{"bin/filter", "--fast"});
    CHECK(m->artifact_dir == "/var/lib/gaffer/artifacts/thermo-filter/1.4.2");
    CHECK(m->working_dir == "/task/run");
    CHECK(m->environment.size() == 2);
    CHECK(m->environment.at("_MODE") == "edge");
    CHECK(m->mode == manifest::Mode::long_lived);
    CHECK(m->interface == manifest::Interface::process);
    CHECK(m->handler.empty());
    CHECK(m->timeout == 120000ms);
    CHECK(m->limits.memory_bytes == 128ull << 20);
    CHECK(m->limits.cpu_millis == 500);
    CHECK(m->limits.pids == 32);
    CHECK(m->user == "1001");
    CHECK(m->group == "dialout");
    CHECK(m->network == manifest::Network::none);
    REQUIRE(m->resources.size() == 2);
    CHECK(m->resources[0].kind == manifest::LocalResource::Kind::device);
    CHECK(m->resources[0].target == "/dev/ttyUSB0");  // defaults to the source
    CHECK(m->resources[0].writable);
    CHECK(m->resources[1].kind == manifest::LocalResource::Kind::directory);
    CHECK(m->resources[1].target == "/data");
    CHECK_FALSE(m->resources[1].writable);
    CHECK(m->max_concurrency == 1);
}

TEST_CASE("omitted fields take their defaults") {
    auto m = manifest::parse(kMinimal);
    REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
    const Manifest defaults;
    CHECK(m->working_dir == "/task");
    CHECK(m->environment.empty());
    CHECK(m->mode == manifest::Mode::on_demand);
    CHECK(m->interface == manifest::Interface::lambda);
    CHECK(m->handler.empty());
    CHECK(m->timeout == 3000ms);
    CHECK(m->limits == defaults.limits);
    CHECK(m->limits.memory_bytes == 64ull << 20);
    CHECK(m->limits.cpu_millis == 1000);
    CHECK(m->limits.pids == 64);
    CHECK(m->user.empty());  // the daemon's default_user
    CHECK(m->group.empty());
    CHECK(m->network == manifest::Network::host);
    CHECK(m->resources.empty());
    CHECK(m->max_concurrency == 1);
}

TEST_CASE("alternative spellings of sizes, durations and cpu") {
    auto parse = [](const std::string& patch) {
        auto m = manifest::parse(minimal_with(R"("command": ["x"], )" + patch));
        REQUIRE_MESSAGE(m, (m ? "" : m.error().message));
        return *m;
    };
    CHECK(parse(R"("timeout": 250)").timeout == 250ms);
    CHECK(parse(R"("timeout": "500ms")").timeout == 500ms);
    CHECK(parse(R"("timeout": "15m")").timeout == 900000ms);
    CHECK(parse(R"("limits": {"memory": 8388608})").limits.memory_bytes == 8ull << 20);
    CHECK(parse(R"("limits": {"memory": "1G"})").limits.memory_bytes == 1ull << 30);
    CHECK(parse(R"("limits": {"memory": "8192K"})").limits.memory_bytes == 8ull << 20);
    CHECK(parse(R"("limits": {"cpu": 2})").limits.cpu_millis == 2000);
    CHECK(parse(R"("limits": {"cpu": 0.01})").limits.cpu_millis == 10);
    CHECK(parse(R"("handler": "app.handle")").handler == "app.handle");
    CHECK(parse(R"("max_concurrency": 256)").max_concurrency == 256);
    CHECK(parse(R"("user": "0", "group": "0")").user == "0");
}

TEST_CASE("to_json round-trips") {
    for (const char* text : {kFull, kMinimal}) {
        auto m = manifest::parse(text);
        REQUIRE(m);
        const std::string json = manifest::to_json(*m);
        auto again = manifest::parse(json);
        REQUIRE_MESSAGE(again, (again ? "" : again.error().message + "\n" + json));
        CHECK(*again == *m);
        CHECK(manifest::to_json(*again) == json);
    }
}

TEST_CASE("equality notices every field") {
    const Manifest base = *manifest::parse(kFull);
    std::vector<void (*)(Manifest&)> edits = {
        [](Manifest& m) { m.name = "other"; },
        [](Manifest& m) { m.version = "2"; },
        [](Manifest& m) { m.owner = "bob"; },
        [](Manifest& m) { m.command.push_back("-v"); },
        [](Manifest& m) { m.artifact_dir = "/x"; },
        [](Manifest& m) { m.working_dir = "/"; },
        [](Manifest& m) { m.environment["X"] = "1"; },
        [](Manifest& m) { m.mode = manifest::Mode::on_demand; },
        [](Manifest& m) { m.interface = manifest::Interface::lambda; },
        [](Manifest& m) { m.handler = "h"; },
        [](Manifest& m) { m.timeout = 1ms; },
        [](Manifest& m) { m.limits.memory_bytes += 1; },
        [](Manifest& m) { m.limits.cpu_millis += 1; },
        [](Manifest& m) { m.limits.pids += 1; },
        [](Manifest& m) { m.user = "x"; },
        [](Manifest& m) { m.group = "x"; },
        [](Manifest& m) { m.network = manifest::Network::host; },
        [](Manifest& m) { m.resources[0].writable = false; },
        [](Manifest& m) { m.resources[1].target = "/y"; },
        [](Manifest& m) { m.resources[1].kind = manifest::LocalResource::Kind::device; },
        [](Manifest& m) { m.resources[1].source = "/z"; },
        [](Manifest& m) { m.max_concurrency = 2; },
    };
    CHECK(base == base);
    for (std::size_t i = 0; i < edits.size(); ++i) {
        Manifest changed = base;
        edits[i](changed);
        CHECK_MESSAGE(!(changed == base), "edit " << i);
    }
}

TEST_CASE("the examples in docs/tasks.md are valid manifests") {
    std::ifstream in(std::string(GAFFER_SOURCE_ROOT) + "/docs/tasks.md");
    REQUIRE(in);
    std::stringstream doc;
    doc << in.rdbuf();
    const std::string text = doc.str();
    int examples = 0;
    for (std::size_t at = text.find("```json\n"); at != std::string::npos; at = text.find("```json\n", at)) {
        at += 8;
        const std::size_t end = text.find("```", at);
        REQUIRE(end != std::string::npos);
        auto m = manifest::parse(std::string_view(text).substr(at, end - at));
        CHECK_MESSAGE(m, (m ? "" : m.error().message));
        ++examples;
    }
    CHECK(examples == 2);
}
