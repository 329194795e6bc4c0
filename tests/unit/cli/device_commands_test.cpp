// `gaffer device|shadow|route ...` end to end against the real API server on a temporary
// socket, with fake backends behind it: argument parsing, the requests sent, the text and
// JSON printed, and the exit codes.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <future>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "../api/fake_backend.hpp"
#include "../api/fake_devices.hpp"
#include "coordinator/cli/cli.hpp"
#include "coordinator/loop/loop.hpp"

using namespace gaffer;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct TempDir {
    TempDir() {
        char tmpl[] = "/tmp/gaffer-cli-test-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string path;
};

// gafferd's API on a loop thread: the real Server and Router over fake backends. Held
// device completions are answered every 10 ms, as a broker round trip would.
class Daemon {
public:
    explicit Daemon(bool with_devices = true) {
        devices.hold_async = true;
        api::ServerOptions options;
        options.socket_path = socket = dir.path + "/api.sock";
        if (with_devices) options.devices = &devices;
        auto started = api::Server::start(loop, backend, options);
        REQUIRE_MESSAGE(started, (started ? "" : started.error().message));
        server = std::move(*started);
        completer.start(10ms, [this] { devices.complete_held(); }, 10ms);
        thread = std::thread([this] { loop.run(); });
    }
    ~Daemon() {
        loop.post([this] { loop.stop(); });
        thread.join();
    }
    // Runs `fn` on the loop thread (the fakes belong to it) and waits.
    template <class Fn>
    void on_loop(Fn fn) {
        std::promise<void> done;
        loop.post([&] {
            fn();
            done.set_value();
        });
        done.get_future().wait();
    }

    TempDir dir;
    std::string socket;
    api::test::FakeBackend backend;
    api::test::FakeDevices devices;
    loop::Loop loop;
    std::unique_ptr<api::Server> server;
    loop::Timer completer{loop};
    std::thread thread;
};

struct Run {
    int code = -1;
    std::string out, err;
};

// `gaffer --socket S args...` in this process, with stdin/stdout/stderr captured.
Run run_gaffer(const std::string& socket, std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.begin(), {"gaffer", "--socket", socket});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    std::ostringstream out, err;
    std::istringstream in(input);
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    auto* old_in = std::cin.rdbuf(in.rdbuf());
    Run r;
    r.code = cli::run(static_cast<int>(argv.size()), argv.data());
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    std::cin.rdbuf(old_in);
    r.out = out.str();
    r.err = err.str();
    return r;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("gaffer device add prints the credentials once, with the not-stored line") {
    Daemon d;
    auto r = run_gaffer(d.socket, {"device", "add", "sensor-1", "--attribute", "room=lab", "--attribute",
                               "note=a=b", "--group", "floor-2", "--group", "all"});
    CHECK(r.code == cli::exit_ok);
    CHECK(r.err.empty());
    CHECK(contains(r.out, "created device sensor-1\n"));
    CHECK(contains(r.out, "password:  pw-sensor-1\n"));
    CHECK(contains(r.out, "client id: sensor-1\n"));
    CHECK(contains(r.out, "broker:    tcp://gateway:1883\n"));
    CHECK(contains(r.out, "The password is not stored and cannot be shown again"));
    d.on_loop([&] {
        REQUIRE(d.devices.added_documents.size() == 1);
        const json doc = json::parse(d.devices.added_documents[0]);
        CHECK(doc == json({{"thing", "sensor-1"},
                           {"attributes", {{"room", "lab"}, {"note", "a=b"}}},
                           {"groups", {"floor-2", "all"}}}));
    });

    auto again = run_gaffer(d.socket, {"device", "add", "sensor-1"});
    CHECK(again.code == cli::exit_server_error);  // 409
    CHECK(contains(again.err, "gaffer: device \"sensor-1\" exists"));

    // Options before THING take one value each.
    auto first = run_gaffer(d.socket, {"device", "add", "--group", "g", "--attribute", "k=v", "sensor-0"});
    CHECK(first.code == cli::exit_ok);
    CHECK(contains(first.out, "created device sensor-0\n"));
    d.on_loop([&] {
        REQUIRE(d.devices.added_documents.size() == 3);
        CHECK(json::parse(d.devices.added_documents[2]) ==
              json({{"thing", "sensor-0"}, {"attributes", {{"k", "v"}}}, {"groups", {"g"}}}));
    });

    auto json_out = run_gaffer(d.socket, {"--json", "device", "add", "sensor-2"});
    CHECK(json_out.code == cli::exit_ok);
    CHECK(json::parse(json_out.out)["credentials"]["password"] == "pw-sensor-2");
}

TEST_CASE("gaffer device add: bad attributes are usage errors; bad names come back 400") {
    Daemon d;
    for (const char* bad : {"novalue", "=v"}) {
        auto r = run_gaffer(d.socket, {"device", "add", "s", "--attribute", bad});
        CHECK(r.code == cli::exit_usage);
        CHECK(contains(r.err, "is not KEY=VALUE"));
    }
    auto twice = run_gaffer(d.socket, {"device", "add", "s", "--attribute", "k=1", "--attribute", "k=2"});
    CHECK(twice.code == cli::exit_usage);
    auto name = run_gaffer(d.socket, {"device", "add", "bad name"});
    CHECK(name.code == cli::exit_invalid);
    CHECK(contains(name.err, "thing: \"bad name\" is not a thing name"));
    CHECK(run_gaffer(d.socket, {"device", "add"}).code == cli::exit_usage);
    d.on_loop([&] { CHECK(d.devices.added_documents.empty()); });
}

TEST_CASE("gaffer device add with the broker unreachable says the credentials are pending") {
    Daemon d;
    d.on_loop([&] { d.devices.broker_reachable = false; });
    auto r = run_gaffer(d.socket, {"device", "add", "s"});
    CHECK(r.code == cli::exit_ok);
    CHECK(contains(r.out, "The broker could not be reached"));
    CHECK(contains(r.out, "password:  pw-s\n"));
}

TEST_CASE("gaffer device list, show, credentials, remove") {
    Daemon d;
    for (const char* t : {"b", "a", "c"}) REQUIRE(run_gaffer(d.socket, {"device", "add", t, "--group", "g"}).code == 0);

    auto list = run_gaffer(d.socket, {"device", "list"});
    CHECK(list.code == cli::exit_ok);
    CHECK(list.out.rfind("THING  CONNECTED  CREDENTIALS  GROUPS  SHADOWS  CREATED\n", 0) == 0);
    CHECK(contains(list.out, "\na      no         active       g       -        2024-05-01T12:00:00Z\n"));
    CHECK(list.err.empty());

    auto page = run_gaffer(d.socket, {"device", "list", "--limit", "2"});
    CHECK(contains(page.out, "\nb "));
    CHECK_FALSE(contains(page.out, "\nc "));
    CHECK(contains(page.err, "more devices follow: gaffer device list --after b"));
    auto rest = run_gaffer(d.socket, {"--json", "device", "list", "--after", "b"});
    CHECK(json::parse(rest.out) == json::parse(R"({"devices": [{"thing": "c", "attributes": {}, "groups": ["g"],
        "connected": false, "presence_changed_at_ms": 0, "created_at_ms": 1714564800000,
        "credentials": "active", "shadows": []}], "next": null})"));
    CHECK(run_gaffer(d.socket, {"device", "list", "--limit", "0"}).code == cli::exit_usage);

    auto show = run_gaffer(d.socket, {"device", "show", "a"});
    CHECK(show.code == cli::exit_ok);
    CHECK(contains(show.out, "thing:       a\n"));
    CHECK(contains(show.out, "connected:   no (never connected)\n"));
    CHECK(contains(show.out, "credentials: active\n"));
    CHECK(contains(show.out, "groups:      g\n"));
    auto missing = run_gaffer(d.socket, {"device", "show", "zz"});
    CHECK(missing.code == cli::exit_not_found);
    CHECK(contains(missing.err, "gaffer: no device \"zz\""));
    CHECK(run_gaffer(d.socket, {"device", "show", "a b"}).code == cli::exit_invalid);

    auto rotated = run_gaffer(d.socket, {"device", "credentials", "a"});
    CHECK(rotated.code == cli::exit_ok);
    CHECK(contains(rotated.out, "rotated the credentials of a: the old password no longer works\n"));
    CHECK(contains(rotated.out, "password:  rotated-1\n"));
    CHECK(contains(rotated.out, "The password is not stored and cannot be shown again"));
    CHECK(run_gaffer(d.socket, {"device", "credentials", "zz"}).code == cli::exit_not_found);

    auto removed = run_gaffer(d.socket, {"device", "remove", "a"});
    CHECK(removed.code == cli::exit_ok);
    CHECK(contains(removed.out, "removed device a"));
    CHECK(run_gaffer(d.socket, {"device", "remove", "a"}).code == cli::exit_not_found);
    CHECK(run_gaffer(d.socket, {"device", "show", "a"}).code == cli::exit_not_found);
}

TEST_CASE("gaffer shadow update from an argument, a file and stdin; get; delete") {
    Daemon d;
    auto inline_update = run_gaffer(d.socket, {"shadow", "update", "s", R"({"state": {"desired": {"on": true}}})"});
    CHECK(inline_update.code == cli::exit_ok);
    CHECK(json::parse(inline_update.out)["version"] == 1);

    const std::string file = d.dir.path + "/req.json";
    REQUIRE(base::write_file(file, R"({"state": {"reported": {"on": true}}})"));
    auto from_file = run_gaffer(d.socket, {"shadow", "update", "s", "--name", "cfg", "--file", file});
    CHECK(from_file.code == cli::exit_ok);
    auto from_stdin = run_gaffer(d.socket, {"shadow", "update", "s", "-"}, R"({"state": {"desired": {"on": false}}})");
    CHECK(from_stdin.code == cli::exit_ok);
    CHECK(json::parse(from_stdin.out)["version"] == 2);
    d.on_loop([&] {
        REQUIRE(d.devices.shadow_requests.size() == 3);
        CHECK(d.devices.shadow_requests[1].rfind("POST s/cfg {\"state\": {\"reported\"", 0) == 0);
        CHECK(d.devices.shadow_requests[2].rfind("POST s/ {\"state\": {\"desired\": {\"on\": false}", 0) == 0);
    });

    auto got = run_gaffer(d.socket, {"shadow", "get", "s"});
    CHECK(got.code == cli::exit_ok);
    CHECK(json::parse(got.out)["state"]["desired"]["on"] == false);
    CHECK(contains(got.out, "\n  \"state\": {\n"));  // pretty-printed for people
    auto raw = run_gaffer(d.socket, {"--json", "shadow", "get", "s", "--name", "cfg"});
    CHECK(raw.code == cli::exit_ok);
    CHECK(raw.out.find('\n') == raw.out.size() - 1);  // as it came, one line

    auto deleted = run_gaffer(d.socket, {"shadow", "delete", "s", "--name", "cfg"});
    CHECK(deleted.code == cli::exit_ok);
    CHECK(deleted.out == "deleted shadow \"cfg\" of s (version 1)\n");
    auto classic = run_gaffer(d.socket, {"shadow", "delete", "s"});
    CHECK(classic.out == "deleted the classic shadow of s (version 2)\n");
}

TEST_CASE("gaffer shadow: AWS rejections print the code and message and exit by status") {
    Daemon d;
    auto missing = run_gaffer(d.socket, {"shadow", "get", "s", "--name", "cfg"});
    CHECK(missing.code == cli::exit_not_found);
    CHECK(missing.out.empty());
    CHECK(missing.err == "gaffer: the shadow service rejected the request for shadow \"cfg\" of s: "
                         "code 404: No shadow exists with name: 's'\n");
    auto as_json = run_gaffer(d.socket, {"--json", "shadow", "delete", "s"});
    CHECK(as_json.code == cli::exit_not_found);
    CHECK(json::parse(as_json.out)["code"] == 404);

    auto bad = run_gaffer(d.socket, {"shadow", "update", "s", R"({"desired": {}})"});
    CHECK(bad.code == cli::exit_invalid);
    CHECK(contains(bad.err, "code 400: Missing required node: state"));
}

TEST_CASE("gaffer shadow update: exactly one source, and it must be JSON") {
    Daemon d;
    auto none = run_gaffer(d.socket, {"shadow", "update", "s"});
    CHECK(none.code == cli::exit_usage);
    CHECK(contains(none.err, "give the request as a JSON argument"));
    CHECK(run_gaffer(d.socket, {"shadow", "update", "s", "{}", "--file", "/nonexistent"}).code == cli::exit_usage);
    auto not_json = run_gaffer(d.socket, {"shadow", "update", "s", "{oops"});
    CHECK(not_json.code == cli::exit_invalid);
    CHECK(contains(not_json.err, "not JSON"));
    CHECK(run_gaffer(d.socket, {"shadow", "update", "s", "--file", d.dir.path + "/absent.json"}).code == cli::exit_invalid);
    CHECK(run_gaffer(d.socket, {"shadow", "get", "s", "--name", "a/b"}).code == cli::exit_invalid);
    d.on_loop([&] { CHECK(d.devices.shadow_requests.empty()); });
}

TEST_CASE("gaffer route add, list, remove") {
    Daemon d;
    auto added = run_gaffer(d.socket, {"route", "add", "device:sensor-1", "things/sensor-1/#", "task:ingest"});
    CHECK(added.code == cli::exit_ok);
    CHECK(added.out == "added route 1: device:sensor-1 -> task:ingest on things/sensor-1/#\n");
    auto list = run_gaffer(d.socket, {"route", "list"});
    CHECK(list.out == "ID  SOURCE           FILTER             TARGET       CREATED\n"
                      "1   device:sensor-1  things/sensor-1/#  task:ingest  2024-05-01T12:00:00Z\n");
    auto bad = run_gaffer(d.socket, {"route", "add", "cloud", "x", "task:t"});
    CHECK(bad.code == cli::exit_invalid);
    CHECK(contains(bad.err, "source: \"cloud\" is not an endpoint"));
    CHECK(run_gaffer(d.socket, {"route", "add", "device:a", "x"}).code == cli::exit_usage);
    CHECK(run_gaffer(d.socket, {"route", "remove", "abc"}).code == cli::exit_usage);
    CHECK(run_gaffer(d.socket, {"route", "remove", "0"}).code == cli::exit_usage);
    CHECK(run_gaffer(d.socket, {"route", "remove", "7"}).code == cli::exit_not_found);
    auto removed = run_gaffer(d.socket, {"route", "remove", "1"});
    CHECK(removed.code == cli::exit_ok);
    CHECK(removed.out == "removed route 1\n");
    CHECK(run_gaffer(d.socket, {"--json", "route", "list"}).out == "{\"routes\":[]}\n");
}

TEST_CASE("device commands without devices enabled, or without a daemon") {
    Daemon d(false);
    for (std::vector<std::string> args : {std::vector<std::string>{"device", "list"},
                                          {"shadow", "get", "s"},
                                          {"route", "list"}}) {
        auto r = run_gaffer(d.socket, args);
        CHECK(r.code == cli::exit_server_error);
        CHECK(r.err == "gaffer: devices are not enabled: configure [broker] in gaffer.toml\n");
    }
    auto gone = run_gaffer(d.dir.path + "/nothing.sock", {"device", "list"});
    CHECK(gone.code == cli::exit_unreachable);
}
