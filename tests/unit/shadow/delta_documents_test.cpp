// The delta (its rules from "Device Shadow service documents" — Delta state — and from
// "Device Shadow MQTT topics" — /update/delta) and the /update/documents message.
#include <doctest/doctest.h>

#include "tests/unit/shadow/fakes.hpp"

using namespace gaffer::shadow;
using namespace gaffer::shadow::testing;

namespace {
constexpr const char* kDelta = "$aws/things/Thing1/shadow/update/delta";
constexpr const char* kDocuments = "$aws/things/Thing1/shadow/update/documents";

Json delta_of(Harness& h) {
    const Json doc = body(h.get());
    return doc["state"].contains("delta") ? doc["state"]["delta"] : Json::object();
}
}  // namespace

TEST_CASE("delta: desired fields missing from reported are in it, reported-only fields are not") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"reported": {"color": "GREEN", "engine": "ON"}}})").code == 200);
    const Reply reply = h.update(R"({"state": {"desired": {"color": "RED", "state": "STOP"}}})");
    REQUIRE(reply.code == 200);
    CHECK(published(reply, kDelta)["state"] == Json::parse(R"({"color": "RED", "state": "STOP"})"));
    CHECK(delta_of(h) == Json::parse(R"({"color": "RED", "state": "STOP"})"));
}

TEST_CASE("delta: nested objects that differ give the path all the way to the root") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"reported": {"lights": {"color": {"r": 255, "g": 0, "b": 255}}}}})").code == 200);
    const Reply reply =
        h.update(R"({"state": {"desired": {"lights": {"color": {"r": 255, "g": 255, "b": 255}}}}})");
    CHECK(published(reply, kDelta)["state"] == Json::parse(R"({"lights": {"color": {"g": 255}}})"));
}

TEST_CASE("delta: arrays are compared as values and copied whole") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"reported": {"colors": ["RED", "GREEN"]}}})").code == 200);
    const Reply differs = h.update(R"({"state": {"desired": {"colors": ["RED", "BLUE"]}}})");
    CHECK(published(differs, kDelta)["state"] == Json::parse(R"({"colors": ["RED", "BLUE"]})"));
    const Reply same = h.update(R"({"state": {"desired": {"colors": ["RED", "GREEN"]}}})");
    CHECK_FALSE(has_publication(same, kDelta));
    CHECK(delta_of(h) == Json::object());
}

TEST_CASE("delta: it holds every differing attribute, stored or in this update") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"desired": {"a": 1}, "reported": {"a": 0}}})").code == 200);
    const Reply reply = h.update(R"({"state": {"desired": {"b": 2}}})");
    CHECK(published(reply, kDelta)["state"] == Json::parse(R"({"a": 1, "b": 2})"));
}

TEST_CASE("delta: an attribute deleted from reported but still desired is included") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"desired": {"a": 1, "b": 2}, "reported": {"a": 1, "b": 2}}})").code == 200);
    CHECK(delta_of(h) == Json::object());
    REQUIRE(h.update(R"({"state": {"reported": {"a": null}}})").code == 200);
    CHECK(delta_of(h) == Json::parse(R"({"a": 1})"));
}

TEST_CASE("delta: numbers compare by value") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"reported": {"level": 1.0}}})").code == 200);
    const Reply reply = h.update(R"({"state": {"desired": {"level": 1}}})");
    CHECK_FALSE(has_publication(reply, kDelta));
    CHECK(delta_of(h) == Json::object());
}

TEST_CASE("delta message: state, the desired metadata of its fields, version, timestamp, token") {
    Harness h;
    h.clock.now = 111;
    REQUIRE(h.update(R"({"state": {"desired": {"lights": {"color": "RED"}}, "reported": {"lights": {"color": "GREEN"}}}})").code == 200);
    h.clock.now = 222;
    const Reply reply = h.update(R"({"state": {"desired": {"engine": "ON"}}, "clientToken": "tok"})");
    CHECK(published(reply, kDelta) == Json::parse(R"({
        "state": {"lights": {"color": "RED"}, "engine": "ON"},
        "metadata": {"lights": {"color": {"timestamp": 111}}, "engine": {"timestamp": 222}},
        "version": 2, "timestamp": 222, "clientToken": "tok"})"));
}

TEST_CASE("delta is published when the request's desired values differ from reported") {
    Harness h;
    // A device reporting only: no desired in the request, no delta message, although the
    // shadow has a delta.
    REQUIRE(h.update(R"({"state": {"desired": {"power": "on"}}})").code == 200);
    const Reply reported_only = h.update(R"({"state": {"reported": {"power": "off"}}})");
    CHECK_FALSE(has_publication(reported_only, kDelta));
    CHECK(delta_of(h) == Json::parse(R"({"power": "on"})"));
    // Desired equal to reported: nothing differs.
    const Reply equal = h.update(R"({"state": {"desired": {"power": "off"}}})");
    CHECK_FALSE(has_publication(equal, kDelta));
    // Desired that differs, again: the delta is published.
    const Reply differs = h.update(R"({"state": {"desired": {"power": "on"}}})");
    CHECK(published(differs, kDelta)["state"] == Json::parse(R"({"power": "on"})"));
    // Only deleting desired fields writes no desired values.
    REQUIRE(h.update(R"({"state": {"desired": {"other": 1}}})").code == 200);
    const Reply deleting = h.update(R"({"state": {"desired": {"other": null}}})");
    CHECK_FALSE(has_publication(deleting, kDelta));
    // An accepted update publishes accepted, then delta, then documents.
    REQUIRE(differs.publications.size() == 3);
    CHECK(differs.publications[0].topic == "$aws/things/Thing1/shadow/update/accepted");
    CHECK(differs.publications[1].topic == kDelta);
    CHECK(differs.publications[2].topic == kDocuments);
}

TEST_CASE("documents: previous and current state, metadata and version on each update") {
    Harness h;
    h.clock.now = 10;
    const Reply first = h.update(R"({"state": {"reported": {"color": "GREEN"}}, "clientToken": "c1"})");
    const Json created = published(first, kDocuments);
    CHECK_FALSE(created.contains("previous"));
    CHECK(created == Json::parse(R"({
        "current": {"state": {"reported": {"color": "GREEN"}},
                    "metadata": {"reported": {"color": {"timestamp": 10}}}, "version": 1},
        "timestamp": 10, "clientToken": "c1"})"));

    h.clock.now = 20;
    const Reply second = h.update(R"({"state": {"desired": {"color": "RED"}}})");
    CHECK(published(second, kDocuments) == Json::parse(R"({
        "previous": {"state": {"reported": {"color": "GREEN"}},
                     "metadata": {"reported": {"color": {"timestamp": 10}}}, "version": 1},
        "current": {"state": {"desired": {"color": "RED"}, "reported": {"color": "GREEN"}},
                    "metadata": {"desired": {"color": {"timestamp": 20}},
                                 "reported": {"color": {"timestamp": 10}}}, "version": 2},
        "timestamp": 20})"));
}

TEST_CASE("documents: a rejected update publishes no documents") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"reported": {"a": 1}}})").code == 200);
    const Reply rejected = h.update(R"({"state": {"reported": {"a": 2}}, "version": 7})");
    CHECK(rejected.code == 409);
    CHECK_FALSE(has_publication(rejected, kDocuments));
    CHECK_FALSE(has_publication(rejected, kDelta));
}
