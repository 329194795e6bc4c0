// Endpoints and routes: parsing, printing, and every rule make_route/validate_route enforce.
#include <doctest/doctest.h>

#include <string>

#include "devices/routing/routing.hpp"

using namespace gaffer;
using routing::Endpoint;
using routing::make_route;
using routing::parse_endpoint;
using Kind = routing::Endpoint::Kind;

namespace {

std::string route_error(std::string_view source, std::string_view filter, std::string_view target) {
    auto route = make_route(source, filter, target);
    REQUIRE_FALSE(route);
    CHECK(route.error().code == base::Errc::invalid);
    return route.error().message;
}

}  // namespace

TEST_CASE("endpoints: parsed and printed back") {
    struct Case {
        const char* text;
        Kind kind;
        const char* name;
    };
    const Case cases[] = {
        {"device:sensor-1", Kind::device, "sensor-1"},
        {"device:A:b_c-9", Kind::device, "A:b_c-9"},
        {"task:ingest.v2", Kind::task, "ingest.v2"},
        {"task:0", Kind::task, "0"},
        {"shadow", Kind::shadow, ""},
        {"cloud", Kind::cloud, ""},
    };
    for (const Case& c : cases) {
        auto endpoint = parse_endpoint(c.text);
        REQUIRE_MESSAGE(endpoint, c.text);
        CHECK(endpoint->kind == c.kind);
        CHECK(endpoint->name == c.name);
        CHECK(routing::to_string(*endpoint) == c.text);
    }
    CHECK(parse_endpoint("device:" + std::string(128, 'x')));
    CHECK(parse_endpoint("task:" + std::string(63, 'x')));
}

TEST_CASE("endpoints: refused with the reason") {
    auto error = [](std::string_view text) {
        auto endpoint = parse_endpoint(text);
        REQUIRE_FALSE(endpoint);
        CHECK(endpoint.error().code == base::Errc::invalid);
        return endpoint.error().message;
    };
    CHECK(error("devce:x") ==
          "\"devce:x\" is not an endpoint (write device:<thing>, task:<name>, shadow or cloud)");
    CHECK(error("Shadow").find("is not an endpoint") != std::string::npos);
    CHECK(error(" shadow").find("is not an endpoint") != std::string::npos);
    CHECK(error("shadow:x").find("is not an endpoint") != std::string::npos);
    CHECK(error("") .find("is not an endpoint") != std::string::npos);
    CHECK(error("device:") == "\"\" is not a valid thing name (1-128 of a-z A-Z 0-9 : _ -)");
    CHECK(error("device:a b") == "\"a b\" is not a valid thing name (1-128 of a-z A-Z 0-9 : _ -)");
    CHECK(error("device:a/b").find("not a valid thing name") != std::string::npos);
    CHECK(error("device:a+").find("not a valid thing name") != std::string::npos);
    CHECK(error("device:" + std::string(129, 'x')).find("not a valid thing name") != std::string::npos);
    CHECK(error("task:") .find("not a valid task name") != std::string::npos);
    CHECK(error("task:Ingest") ==
          "\"Ingest\" is not a valid task name (1-63 of a-z 0-9 _ . -, starting with a-z or 0-9)");
    CHECK(error("task:-x").find("not a valid task name") != std::string::npos);
    CHECK(error("task:_x").find("not a valid task name") != std::string::npos);
    CHECK(error("task:a:b").find("not a valid task name") != std::string::npos);
    CHECK(error("task:" + std::string(64, 'x')).find("not a valid task name") != std::string::npos);
    CHECK(error("device:\x01") == "\"\\x01\" is not a valid thing name (1-128 of a-z A-Z 0-9 : _ -)");
}

TEST_CASE("make_route: every designed route shape is accepted") {
    struct Case {
        const char* source;
        const char* filter;
        const char* target;
    };
    const Case cases[] = {
        {"device:a", "things/a/temp", "device:b"},
        {"device:a", "things/+/temp/#", "task:ingest"},
        {"task:ingest", "alerts/#", "device:b"},
        {"task:ingest", "alerts/#", "task:notify"},
        {"shadow", "$aws/things/+/shadow/update/delta", "task:sync"},
        {"shadow", "$aws/things/b/shadow/update/accepted", "device:b"},
        {"task:sync", "$aws/things/+/shadow/update", "shadow"},
        {"device:a", "$aws/things/a/shadow/name/+/update", "shadow"},
        {"shadow", "$aws/things/#", "task:sync"},
        {"device:a", "/leading/empty", "task:t"},
        {"device:a", "#", "task:t"},
    };
    for (const Case& c : cases) {
        auto route = make_route(c.source, c.filter, c.target);
        REQUIRE_MESSAGE(route, route.error().message);
        CHECK(route->id == 0);
        CHECK(routing::to_string(route->source) == c.source);
        CHECK(route->filter == c.filter);
        CHECK(routing::to_string(route->target) == c.target);
    }
}

TEST_CASE("make_route: errors name the field and say why") {
    CHECK(route_error("cloud", "x", "task:t") == "source: cloud routes arrive with cloud sync");
    CHECK(route_error("task:t", "x", "cloud") == "target: cloud routes arrive with cloud sync");
    CHECK(route_error("devce:a", "x", "task:t") ==
          "source: \"devce:a\" is not an endpoint (write device:<thing>, task:<name>, shadow or cloud)");
    CHECK(route_error("task:t", "x", "task:T") ==
          "target: \"T\" is not a valid task name (1-63 of a-z 0-9 _ . -, starting with a-z or 0-9)");
    CHECK(route_error("device:a", "x/#/y", "task:t") ==
          "filter: \"x/#/y\" has '#' at byte 2 before the last level");
    CHECK(route_error("device:a", "", "task:t") == "filter: must not be empty");
    // Field order: a bad filter is named before a bad target.
    CHECK(route_error("device:a", "x+", "nowhere").starts_with("filter: "));
    CHECK(route_error("device:a", "x", "task:t/").starts_with("target: "));
    CHECK(route_error("device:a", "x", "device:a") ==
          "target: the same endpoint as the source (device:a); a route joins two endpoints");
    CHECK(route_error("task:t", "x", "task:t").starts_with("target: the same endpoint"));
    CHECK(route_error("shadow", "$aws/things/+/shadow/update", "shadow") ==
          "target: shadow -> shadow is not a route (the shadow service answers its own requests)");
    CHECK(route_error("shadow", "things/a/x", "task:t") ==
          "filter: a route from or to shadow needs a filter under $aws/things/ "
          "(e.g. $aws/things/+/shadow/update/delta), not \"things/a/x\"");
    CHECK(route_error("task:t", "#", "shadow").starts_with("filter: a route from or to shadow"));
    CHECK(route_error("task:t", "+/things/a/shadow/update", "shadow").starts_with("filter: a route from or to shadow"));
    CHECK(route_error("task:t", "$aws/things", "shadow").starts_with("filter: a route from or to shadow"));
    CHECK(route_error("task:t", "$aws/+/a", "shadow").starts_with("filter: a route from or to shadow"));
    CHECK(route_error("task:t", "$aws/thingsx/a", "shadow").starts_with("filter: a route from or to shadow"));
    CHECK(route_error("device:a", "$aws/things/b/shadow/update/accepted", "task:t") ==
          "filter: \"$aws/things/b/shadow/update/accepted\" starts with '$': those topics belong to the "
          "broker and the shadow service (only a route from or to shadow may use $aws/things/...)");
    CHECK(route_error("device:a", "$SYS/#", "device:b").starts_with("filter: \"$SYS/#\" starts with '$'"));
    std::string deep = "a";
    for (std::size_t i = 1; i < routing::kMaxFilterLevels; ++i) deep += "/a";
    CHECK(make_route("device:a", deep, "task:t"));
    CHECK(route_error("device:a", deep + "/#", "task:t") ==
          "filter: \"" + deep.substr(0, 96) + "...\" has 65 levels (a route allows at most 64)");
}

TEST_CASE("validate_route: names on shadow and cloud, and endpoints built by hand") {
    routing::Route route{0, Endpoint{Kind::shadow, "x"}, "$aws/things/+/shadow/update/delta",
                         Endpoint{Kind::task, "t"}};
    auto bad = routing::validate_route(route);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == "source: shadow takes no name (got \"x\")");
    route.source.name.clear();
    CHECK(routing::validate_route(route));
    route.target = Endpoint{Kind::device, ""};
    CHECK(routing::validate_route(route).error().message.starts_with("target: \"\" is not a valid thing name"));
}

TEST_CASE("carried_by_broker and affected_devices") {
    auto d2d = make_route("device:a", "x", "device:b").value();
    auto d2t = make_route("device:a", "x", "task:t").value();
    auto t2d = make_route("task:t", "x", "device:b").value();
    auto s2t = make_route("shadow", "$aws/things/+/shadow/update/delta", "task:t").value();
    CHECK(routing::carried_by_broker(d2d));
    CHECK_FALSE(routing::carried_by_broker(d2t));
    CHECK_FALSE(routing::carried_by_broker(t2d));
    CHECK(routing::affected_devices(d2d) == std::vector<std::string>{"a", "b"});
    CHECK(routing::affected_devices(d2t) == std::vector<std::string>{"a"});
    CHECK(routing::affected_devices(t2d) == std::vector<std::string>{"b"});
    CHECK(routing::affected_devices(s2t).empty());
}
