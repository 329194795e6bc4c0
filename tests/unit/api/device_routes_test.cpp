#include <doctest/doctest.h>

#include <optional>

#include <nlohmann/json.hpp>

#include "fake_backend.hpp"
#include "fake_devices.hpp"
#include "router_calls.hpp"

using namespace gaffer;
using api::test::FakeBackend;
using api::test::FakeDevices;
using api::test::body_json;
using api::test::call;
using api::test::make_request;
using nlohmann::json;

namespace {

std::string message(const http::Response& r) { return body_json(r).value("message", ""); }

struct Fixture {
    FakeBackend backend;
    FakeDevices devices;
    api::Router router{backend, {}, &devices};

    http::Response ask(std::string method, std::string target, std::string body = {}) {
        auto r = call(router, std::move(method), std::move(target), std::move(body));
        REQUIRE(r);
        return *r;
    }
    void add(const std::string& thing) {
        REQUIRE(ask("POST", "/v1/devices", json({{"thing", thing}}).dump()).status == 201);
    }
};

}  // namespace

TEST_CASE("devices disabled: every device, shadow and route path is 503 with the config hint") {
    FakeBackend backend;
    api::Router router(backend);
    const std::pair<const char*, const char*> routes[] = {
        {"POST", "/v1/devices"},         {"GET", "/v1/devices"},
        {"GET", "/v1/devices/a"},        {"DELETE", "/v1/devices/a"},
        {"POST", "/v1/devices/a/credentials"}, {"GET", "/v1/devices/a/shadow"},
        {"POST", "/v1/devices/a/shadow"}, {"DELETE", "/v1/devices/a/shadow?name=x"},
        {"POST", "/v1/routes"},          {"GET", "/v1/routes"},
        {"DELETE", "/v1/routes/1"},
    };
    for (const auto& [method, target] : routes) {
        CAPTURE(method);
        CAPTURE(target);
        auto r = call(router, method, target, "{}");
        REQUIRE(r);
        CHECK(r->status == 503);
        CHECK(body_json(*r)["error"] == "unavailable");
        CHECK(message(*r) == "devices are not enabled: configure [broker] in gaffer.toml");
    }
    // Wrong methods and unknown sub-paths say so before the 503.
    CHECK(call(router, "PUT", "/v1/devices")->status == 405);
    CHECK(call(router, "GET", "/v1/devices/a/nothing")->status == 404);
    CHECK(call(router, "GET", "/v1/routes/1/x")->status == 404);
    // Enabled later: the same router serves them.
    FakeDevices devices;
    router.set_device_backend(&devices);
    CHECK(call(router, "GET", "/v1/routes")->status == 200);
    router.set_device_backend(nullptr);
    CHECK(call(router, "GET", "/v1/routes")->status == 503);
}

TEST_CASE("wrong methods on device paths are 405 with Allow") {
    Fixture f;
    auto allow = [&](const char* method, const char* target) {
        auto r = f.ask(method, target);
        CHECK(r.status == 405);
        const std::string* a = http::find_header(r.headers, "Allow");
        return a ? *a : std::string("<absent>");
    };
    CHECK(allow("DELETE", "/v1/devices") == "GET, POST");
    CHECK(allow("POST", "/v1/devices/a") == "GET, DELETE");
    CHECK(allow("GET", "/v1/devices/a/credentials") == "POST");
    CHECK(allow("PUT", "/v1/devices/a/shadow") == "GET, POST, DELETE");
    CHECK(allow("DELETE", "/v1/routes") == "GET, POST");
    CHECK(allow("GET", "/v1/routes/3") == "DELETE");
}

TEST_CASE("POST /v1/devices: 201 with the device and its credentials") {
    Fixture f;
    auto r = f.ask("POST", "/v1/devices",
                   R"({"thing": "sensor-1", "attributes": {"room": "lab"}, "groups": ["floor-2"]})");
    CHECK(r.status == 201);
    auto j = body_json(r);
    CHECK(j["device"]["thing"] == "sensor-1");
    CHECK(j["device"]["attributes"] == json({{"room", "lab"}}));
    CHECK(j["device"]["groups"] == json::array({"floor-2"}));
    CHECK(j["device"]["credentials"] == "active");
    CHECK(j["device"]["connected"] == false);
    CHECK(j["device"]["created_at_ms"] == 1714564800000);
    CHECK(j["credentials"]["username"] == "sensor-1");
    CHECK(j["credentials"]["client_id"] == "sensor-1");
    CHECK(j["credentials"]["password"] == "pw-sensor-1");
    CHECK(j["credentials"]["broker"] == "tcp://gateway:1883");
    REQUIRE(f.devices.added_documents.size() == 1);
    CHECK(json::parse(f.devices.added_documents[0])["groups"][0] == "floor-2");

    // The password is shown here and nowhere else.
    CHECK(f.ask("GET", "/v1/devices/sensor-1").body.find("pw-") == std::string::npos);
    CHECK(f.ask("GET", "/v1/devices").body.find("pw-") == std::string::npos);

    auto again = f.ask("POST", "/v1/devices", R"({"thing": "sensor-1"})");
    CHECK(again.status == 409);
    CHECK(body_json(again)["error"] == "conflict");
}

TEST_CASE("POST /v1/devices with the broker unreachable is still 201, credentials pending") {
    Fixture f;
    f.devices.broker_reachable = false;
    auto r = f.ask("POST", "/v1/devices", R"({"thing": "s"})");
    CHECK(r.status == 201);
    CHECK(body_json(r)["device"]["credentials"] == "pending");
    CHECK(body_json(r)["credentials"]["password"] == "pw-s");
}

TEST_CASE("POST /v1/devices: bad documents are 400 naming the field, and reach no backend") {
    Fixture f;
    const std::pair<const char*, const char*> cases[] = {
        {"{\"thing\": ", "body is not JSON"},
        {"[1]", "body: must be a JSON object"},
        {"{}", "thing: missing"},
        {R"({"thing": 7})", "thing: must be a string"},
        {R"({"thing": "a b"})", "thing: \"a b\" is not a thing name"},
        {R"({"thing": ""})", "thing: \"\" is not a thing name"},
        {R"({"thing": "a", "atributes": {}})", "unknown key \"atributes\" (did you mean \"attributes\"?)"},
        {R"({"thing": "a", "colour": 1})", "unknown key \"colour\""},
        {R"({"thing": "a", "attributes": []})", "attributes: must be an object of strings"},
        {R"({"thing": "a", "attributes": {"n": 1}})", "attributes.n: must be a string"},
        {R"({"thing": "a", "groups": "g"})", "groups: must be an array of strings"},
        {R"({"thing": "a", "groups": ["g", 2]})", "groups[1]: must be a string"},
    };
    for (const auto& [body, expected] : cases) {
        CAPTURE(body);
        auto r = f.ask("POST", "/v1/devices", body);
        CHECK(r.status == 400);
        CHECK(body_json(r)["error"] == "invalid");
        CHECK(message(r).rfind(expected, 0) == 0);
    }
    CHECK(f.ask("POST", "/v1/devices", "{\"thing\": \"" + std::string(129, 'a') + "\"}").status == 400);
    CHECK(f.ask("POST", "/v1/devices", "{\"thing\": \"" + std::string(128, 'a') + "\"}").status == 201);
    CHECK(f.ask("POST", "/v1/devices", R"({"thing": "Ab:c_d-9"})").status == 201);
    CHECK(f.devices.added_documents.size() == 2);

    auto big = f.ask("POST", "/v1/devices", "{\"thing\": \"x\", \"groups\": [\"" + std::string(70000, 'g') + "\"]}");
    CHECK(big.status == 413);
    CHECK(message(big).find("body: ") == 0);
    CHECK(message(big).find("65536") != std::string::npos);
}

TEST_CASE("async device calls answer when the backend completes, even after the router is gone") {
    FakeBackend backend;
    FakeDevices devices;
    devices.hold_async = true;
    std::optional<http::Response> added, removed, rotated;
    {
        api::Router router(backend, {}, &devices);
        router.handle(make_request("POST", "/v1/devices", R"({"thing": "late"})"),
                      [&](http::Response r) { added = std::move(r); });
        CHECK_FALSE(added);
        REQUIRE(devices.held.size() == 1);
        devices.complete_held();
        REQUIRE(added);
        CHECK(added->status == 201);

        router.handle(make_request("POST", "/v1/devices/late/credentials"),
                      [&](http::Response r) { rotated = std::move(r); });
        router.handle(make_request("DELETE", "/v1/devices/late"), [&](http::Response r) { removed = std::move(r); });
        CHECK_FALSE(rotated);
        CHECK_FALSE(removed);
        REQUIRE(devices.held.size() == 2);
    }
    devices.complete_held();
    REQUIRE(rotated);
    CHECK(rotated->status == 200);
    CHECK(body_json(*rotated)["credentials"]["password"] == "rotated-1");
    REQUIRE(removed);
    CHECK(removed->status == 200);
    CHECK(body_json(*removed) == json({{"thing", "late"}, {"removed", true}}));
}

TEST_CASE("async device call errors map to statuses") {
    Fixture f;
    const std::pair<base::Errc, int> cases[] = {
        {base::Errc::io, 500}, {base::Errc::unavailable, 503}, {base::Errc::invalid, 400}, {base::Errc::busy, 429}};
    for (const auto& [code, status] : cases) {
        f.devices.fail_next = base::Error{code, "because"};
        auto r = f.ask("POST", "/v1/devices", R"({"thing": "x"})");
        CHECK(r.status == status);
        CHECK(message(r) == "because");
    }
    f.add("x");
    f.devices.fail_next = base::Error{base::Errc::io, "disk"};
    CHECK(f.ask("DELETE", "/v1/devices/x").status == 500);
    f.devices.fail_next = base::Error{base::Errc::io, "disk"};
    CHECK(f.ask("POST", "/v1/devices/x/credentials").status == 500);
}

TEST_CASE("GET /v1/devices pages by thing name with next") {
    Fixture f;
    for (const char* t : {"c", "a", "d", "b"}) f.add(t);
    auto first = body_json(f.ask("GET", "/v1/devices?limit=3"));
    REQUIRE(first["devices"].size() == 3);
    CHECK(first["devices"][0]["thing"] == "a");
    CHECK(first["devices"][2]["thing"] == "c");
    CHECK(first["next"] == "c");
    CHECK(f.devices.list_requests.back() == std::make_pair(std::string(), std::size_t{4}));
    auto second = body_json(f.ask("GET", "/v1/devices?limit=3&after=c"));
    REQUIRE(second["devices"].size() == 1);
    CHECK(second["devices"][0]["thing"] == "d");
    CHECK(second["next"].is_null());
    CHECK(f.devices.list_requests.back().first == "c");

    auto all = body_json(f.ask("GET", "/v1/devices"));
    CHECK(all["devices"].size() == 4);
    CHECK(f.devices.list_requests.back().second == 101);  // default page 100, plus one

    for (const char* bad : {"?limit=0", "?limit=1001", "?limit=x", "?limit=-1", "?limit=%zz", "?after=a%20b"}) {
        CAPTURE(bad);
        auto r = f.ask("GET", std::string("/v1/devices") + bad);
        CHECK(r.status == 400);
    }
    CHECK(message(f.ask("GET", "/v1/devices?limit=0")).rfind("limit: ", 0) == 0);
    CHECK(message(f.ask("GET", "/v1/devices?after=a%20b")).rfind("after: ", 0) == 0);
    f.devices.fail_next = base::Error{base::Errc::io, "store"};
    CHECK(f.ask("GET", "/v1/devices").status == 500);
}

TEST_CASE("GET and DELETE /v1/devices/{thing}") {
    Fixture f;
    f.add("dev:1");
    auto shown = f.ask("GET", "/v1/devices/dev%3A1");
    CHECK(shown.status == 200);
    CHECK(body_json(shown)["thing"] == "dev:1");
    CHECK(body_json(shown)["shadows"] == json::array());
    CHECK(f.ask("GET", "/v1/devices/nope").status == 404);
    auto bad = f.ask("GET", "/v1/devices/a%20b");
    CHECK(bad.status == 400);
    CHECK(message(bad).rfind("thing: \"a b\" is not a thing name", 0) == 0);
    // The path is decoded before it is split: a slash in a name is another path.
    CHECK(f.ask("GET", "/v1/devices/a%2Fb").status == 404);
    CHECK(f.ask("DELETE", "/v1/devices/a%20b").status == 400);
    CHECK(f.ask("POST", "/v1/devices/a%20b/credentials").status == 400);
    CHECK(f.ask("DELETE", "/v1/devices/dev:1").status == 200);
    CHECK(f.ask("DELETE", "/v1/devices/dev:1").status == 404);
    CHECK(f.ask("POST", "/v1/devices/dev:1/credentials").status == 404);
}

TEST_CASE("POST /v1/devices/{thing}/credentials takes an empty body or {} only") {
    Fixture f;
    f.add("s");
    CHECK(f.ask("POST", "/v1/devices/s/credentials").status == 200);
    CHECK(f.ask("POST", "/v1/devices/s/credentials", "{}").status == 200);
    auto r = f.ask("POST", "/v1/devices/s/credentials", R"({"password": "mine"})");
    CHECK(r.status == 400);
    CHECK(message(r).rfind("unknown key \"password\"", 0) == 0);
    CHECK(f.ask("POST", "/v1/devices/s/credentials", "nope").status == 400);
    CHECK(f.devices.rotations == 2);
}

TEST_CASE("shadows: the AWS answer's status and body pass through unchanged") {
    Fixture f;
    auto missing = f.ask("GET", "/v1/devices/s/shadow");
    CHECK(missing.status == 404);
    CHECK(missing.body == R"({"code":404,"message":"No shadow exists with name: 's'","timestamp":1714564800})");
    CHECK(*http::find_header(missing.headers, "Content-Type") == "application/json");

    const std::string update = R"({"state": {"desired": {"on": true}}})";
    auto updated = f.ask("POST", "/v1/devices/s/shadow", update);
    CHECK(updated.status == 200);
    CHECK(body_json(updated)["version"] == 1);
    CHECK(f.devices.shadow_requests.back() == "POST s/ " + update);

    auto got = f.ask("GET", "/v1/devices/s/shadow");
    CHECK(got.status == 200);
    CHECK(body_json(got)["state"]["desired"]["on"] == true);

    auto rejected = f.ask("POST", "/v1/devices/s/shadow", R"({"nostate": 1})");
    CHECK(rejected.status == 400);
    CHECK(body_json(rejected)["code"] == 400);
    CHECK(body_json(rejected)["message"] == "Missing required node: state");

    auto deleted = f.ask("DELETE", "/v1/devices/s/shadow");
    CHECK(deleted.status == 200);
    CHECK(body_json(deleted)["version"] == 1);
    CHECK(f.ask("DELETE", "/v1/devices/s/shadow").status == 404);
}

TEST_CASE("shadows: ?name selects a named shadow; bad names, bodies and statuses") {
    Fixture f;
    CHECK(f.ask("POST", "/v1/devices/s/shadow?name=config", R"({"state": {}})").status == 200);
    CHECK(f.devices.shadow_requests.back().rfind("POST s/config ", 0) == 0);
    CHECK(f.ask("GET", "/v1/devices/s/shadow?name=config").status == 200);
    CHECK(f.ask("GET", "/v1/devices/s/shadow").status == 404);  // the classic one is another shadow
    CHECK(f.devices.shadow_requests.back() == "GET s/");

    const std::size_t asked = f.devices.shadow_requests.size();
    for (const char* bad : {"?name=", "?name=a%2Fb", "?name=%zz", "?name=a+b"}) {
        CAPTURE(bad);
        auto r = f.ask("GET", std::string("/v1/devices/s/shadow") + bad);
        CHECK(r.status == 400);
        CHECK(message(r).rfind("name: ", 0) == 0);
    }
    CHECK(f.ask("GET", "/v1/devices/s/shadow?name=" + std::string(65, 'n')).status == 400);
    CHECK(f.ask("GET", "/v1/devices/bad%20thing/shadow").status == 400);
    auto not_json = f.ask("POST", "/v1/devices/s/shadow", "{\"state\": ");
    CHECK(not_json.status == 400);
    CHECK(body_json(not_json)["error"] == "invalid");
    CHECK(message(not_json).rfind("body is not JSON", 0) == 0);
    CHECK(f.ask("POST", "/v1/devices/s/shadow", "{\"state\": \"" + std::string(70000, 'x') + "\"}").status == 413);
    CHECK(f.devices.shadow_requests.size() == asked);
}

TEST_CASE("shadows: a status HTTP cannot carry becomes 500") {
    struct Broken : FakeDevices {
        api::ShadowAnswer get_shadow(std::string_view, std::string_view) override { return {42, "{}"}; }
    };
    FakeBackend backend;
    Broken devices;
    api::Router router(backend, {}, &devices);
    CHECK(call(router, "GET", "/v1/devices/s/shadow")->status == 500);
}

TEST_CASE("routes: add 201, list, remove, and their errors") {
    Fixture f;
    auto added = f.ask("POST", "/v1/routes", R"({"source": "device:a", "filter": "things/a/#", "target": "task:t"})");
    CHECK(added.status == 201);
    CHECK(body_json(added) == json({{"id", 1}, {"source", "device:a"}, {"filter", "things/a/#"},
                                    {"target", "task:t"}, {"created_at_ms", 1714564800000}}));
    auto list = body_json(f.ask("GET", "/v1/routes"));
    REQUIRE(list["routes"].size() == 1);
    CHECK(list["routes"][0]["id"] == 1);

    const std::pair<const char*, const char*> bad[] = {
        {R"({"filter": "f", "target": "t"})", "source: missing"},
        {R"({"source": "device:a", "filter": 1, "target": "t"})", "filter: must be a string"},
        {R"({"source": "device:a", "filter": "f", "target": "t", "qos": 1})", "unknown key \"qos\""},
        {R"({"source": "cloud", "filter": "f", "target": "t"})", "source: \"cloud\" is not an endpoint"},
        {"not json", "body is not JSON"},
    };
    for (const auto& [body, expected] : bad) {
        CAPTURE(body);
        auto r = f.ask("POST", "/v1/routes", body);
        CHECK(r.status == 400);
        CHECK(message(r).rfind(expected, 0) == 0);
    }
    CHECK(f.ask("POST", "/v1/routes", "{\"source\": \"" + std::string(17000, 's') + "\"}").status == 413);

    for (const char* id : {"abc", "0", "-1", "01", "+1", "1.5", "99999999999999999999"}) {
        CAPTURE(id);
        auto r = f.ask("DELETE", std::string("/v1/routes/") + id);
        CHECK(r.status == 400);
        CHECK(message(r).rfind("id: ", 0) == 0);
    }
    CHECK(f.ask("DELETE", "/v1/routes/2").status == 404);
    auto removed = f.ask("DELETE", "/v1/routes/1");
    CHECK(removed.status == 200);
    CHECK(body_json(removed) == json({{"id", 1}, {"removed", true}}));
    CHECK(body_json(f.ask("GET", "/v1/routes"))["routes"].empty());
    f.devices.fail_next = base::Error{base::Errc::conflict, "the same route exists"};
    CHECK(f.ask("POST", "/v1/routes", R"({"source": "device:a", "filter": "f", "target": "t"})").status == 409);
    f.devices.fail_next = base::Error{base::Errc::io, "store"};
    CHECK(f.ask("GET", "/v1/routes").status == 500);
}

TEST_CASE("device responses are counted like the others") {
    Fixture f;
    f.ask("GET", "/v1/routes");
    f.ask("GET", "/v1/devices/nope");
    auto counts = f.router.response_counts();
    CHECK(counts[200] == 1);
    CHECK(counts[404] == 1);
}
