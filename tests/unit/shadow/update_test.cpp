// Updates, from "Interacting with shadows" and "Device Shadow service documents":
// partial merge, null deletes, empty sections, arrays, metadata, versions, limits.
#include <doctest/doctest.h>

#include <string>

#include "tests/unit/shadow/fakes.hpp"

using namespace gaffer::shadow;
using namespace gaffer::shadow::testing;

namespace {
constexpr const char* kAccepted = "$aws/things/Thing1/shadow/update/accepted";
constexpr const char* kRejected = "$aws/things/Thing1/shadow/update/rejected";

Json state_of(Harness& h) {
    const Reply reply = h.get();
    REQUIRE(reply.code == 200);
    return body(reply)["state"];
}
}  // namespace

TEST_CASE("an update creates the shadow at version 1") {
    Harness h;
    CHECK(h.get().code == 404);
    const Reply reply = h.update(R"({"state": {"reported": {"temp": 55}}})");
    CHECK(reply.code == 200);
    CHECK(body(reply)["version"] == 1);
    CHECK(state_of(h) == Json::parse(R"({"reported": {"temp": 55}})"));
}

TEST_CASE("updates affect only the fields specified and merge nested objects") {
    // "Updating a shadow": initial reported color, then a desired update, then the device
    // reports r=10 and engine ON; g and b are kept.
    Harness h;
    REQUIRE(h.update(R"({"state": {"reported": {"color": {"r": 255, "g": 255, "b": 0}}}})").code == 200);
    REQUIRE(h.update(R"({"state": {"desired": {"color": {"r": 10}, "engine": "ON"}}})").code == 200);
    REQUIRE(h.update(R"({"state": {"reported": {"color": {"r": 10}, "engine": "ON"}}})").code == 200);
    const Json state = state_of(h);
    CHECK(state["reported"] == Json::parse(R"({"color": {"r": 10, "g": 255, "b": 0}, "engine": "ON"})"));
    CHECK(state["desired"] == Json::parse(R"({"color": {"r": 10}, "engine": "ON"})"));
}

TEST_CASE("a null value deletes that property") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"desired": {"color": "RED", "engine": "ON"}}})").code == 200);
    REQUIRE(h.update(R"({"state": {"desired": {"engine": null}}})").code == 200);
    CHECK(state_of(h)["desired"] == Json::parse(R"({"color": "RED"})"));
    // Deleting a property that is not there is accepted and changes nothing else.
    REQUIRE(h.update(R"({"state": {"desired": {"missing": null}}})").code == 200);
    CHECK(state_of(h)["desired"] == Json::parse(R"({"color": "RED"})"));
}

TEST_CASE("desired null removes the desired section (Empty shadow document properties)") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"desired": {"color": "RED"}, "reported": {"color": "GREEN"}}})").code == 200);
    REQUIRE(h.update(R"({"state": {"reported": {"color": "red"}, "desired": null}})").code == 200);
    const Json state = state_of(h);
    CHECK_FALSE(state.contains("desired"));
    CHECK_FALSE(state.contains("delta"));
    CHECK(state["reported"] == Json::parse(R"({"color": "red"})"));
    CHECK_FALSE(body(h.get())["metadata"].contains("desired"));
}

TEST_CASE("deleting data: desired null and a reported null field in one update") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"desired": {"lights": {"color": "RED"}, "engine": "ON"},
                                   "reported": {"lights": {"color": "GREEN"}, "engine": "OFF"}}})")
                .code == 200);
    REQUIRE(h.update(R"({"state": {"desired": null, "reported": {"engine": null}}})").code == 200);
    CHECK(state_of(h) == Json::parse(R"({"reported": {"lights": {"color": "GREEN"}}})"));
}

TEST_CASE("a section emptied by null deletes disappears") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"reported": {"temp": 55}, "desired": {"temp": 50}}})").code == 200);
    REQUIRE(h.update(R"({"state": {"desired": {"temp": null}}})").code == 200);
    const Json doc = body(h.get());
    CHECK(doc["state"] == Json::parse(R"({"reported": {"temp": 55}})"));
    CHECK_FALSE(doc["metadata"].contains("desired"));
}

TEST_CASE("state null deletes all state but the shadow remains") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"desired": {"a": 1}, "reported": {"b": 2}}})").code == 200);
    const Reply cleared = h.update(R"({"state": null})");
    CHECK(cleared.code == 200);
    CHECK(body(cleared)["version"] == 2);
    const Reply got = h.get();
    REQUIRE(got.code == 200);
    CHECK(body(got)["state"] == Json::object());
    CHECK(body(got)["metadata"] == Json::object());
    CHECK(body(got)["version"] == 2);
    CHECK(body(h.update(R"({"state": {"reported": {"b": 3}}})"))["version"] == 3);
}

TEST_CASE("an update to an array replaces the whole array") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"desired": {"colors": ["RED", "GREEN", "BLUE"]}}})").code == 200);
    REQUIRE(h.update(R"({"state": {"desired": {"colors": ["RED"]}}})").code == 200);
    CHECK(state_of(h)["desired"] == Json::parse(R"({"colors": ["RED"]})"));
}

TEST_CASE("arrays cannot hold null values") {
    Harness h;
    const Reply reply = h.update(R"({"state": {"desired": {"colors": [null, "RED", "GREEN"]}}})");
    CHECK(reply.code == 400);
    CHECK(body(reply)["message"] == "Invalid JSON");
    CHECK(has_publication(reply, kRejected));
    CHECK(h.store.shadows.empty());
}

TEST_CASE("metadata holds a timestamp for every leaf; an array has one for the whole array") {
    // The example document: desired color and sequence (an array), reported color.
    Harness h;
    h.clock.now = 12345;
    REQUIRE(h.update(R"({"state": {"desired": {"color": "RED", "sequence": ["RED", "GREEN", "BLUE"]},
                                   "reported": {"color": "GREEN"}}})")
                .code == 200);
    CHECK(body(h.get())["metadata"] == Json::parse(R"({
        "desired": {"color": {"timestamp": 12345}, "sequence": {"timestamp": 12345}},
        "reported": {"color": {"timestamp": 12345}}})"));
}

TEST_CASE("metadata of nested leaves records when each leaf was last written") {
    Harness h;
    h.clock.now = 100;
    REQUIRE(h.update(R"({"state": {"reported": {"lights": {"color": "RED", "level": 5}}}})").code == 200);
    h.clock.now = 200;
    REQUIRE(h.update(R"({"state": {"reported": {"lights": {"color": "BLUE"}}}})").code == 200);
    CHECK(body(h.get())["metadata"]["reported"] == Json::parse(R"({
        "lights": {"color": {"timestamp": 200}, "level": {"timestamp": 100}}})"));
}

TEST_CASE("metadata of deleted properties goes away, and follows a value's change of kind") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"reported": {"a": 1, "b": {"c": 2}}}})").code == 200);
    h.clock.now += 10;
    REQUIRE(h.update(R"({"state": {"reported": {"a": null, "b": 7}}})").code == 200);
    CHECK(body(h.get())["metadata"]["reported"] ==
          Json::parse("{\"b\": {\"timestamp\": " + std::to_string(h.clock.now) + "}}"));
    REQUIRE(h.update(R"({"state": {"reported": {"b": {"d": 1}}}})").code == 200);
    CHECK(body(h.get())["metadata"]["reported"] ==
          Json::parse("{\"b\": {\"d\": {\"timestamp\": " + std::to_string(h.clock.now) + "}}}"));
}

TEST_CASE("the version increases by exactly one per accepted update") {
    Harness h;
    for (int i = 1; i <= 5; ++i) {
        const Reply reply = h.update_json(Json{{"state", {{"reported", {{"n", i}}}}}});
        REQUIRE(reply.code == 200);
        CHECK(body(reply)["version"] == i);
    }
    CHECK(h.update(R"({"state": {"reported": {"n": "bad"}}, "version": "x"})").code == 400);
    CHECK(body(h.get())["version"] == 5);
}

TEST_CASE("optimistic locking: a version that does not match is a 409 conflict") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"desired": {"colors": ["RED", "GREEN", "BLUE"]}}})").code == 200);
    for (int i = 2; i <= 10; ++i) REQUIRE(h.update(R"({"state": {"reported": {"n": 1}}})").code == 200);
    REQUIRE(body(h.get())["version"] == 10);

    const Reply stale = h.update(R"({"state": {"desired": {"colors": ["BLUE"]}}, "version": 9,
                                     "clientToken": "426bfd96-e720-46d3-95cd-014e3ef12bb6"})");
    CHECK(stale.code == 409);
    const Json error = published(stale, kRejected);
    CHECK(error["code"] == 409);
    CHECK(error["message"] == "Version conflict");
    CHECK(error["clientToken"] == "426bfd96-e720-46d3-95cd-014e3ef12bb6");
    CHECK(stale.publications.size() == 1);

    const Reply fresh = h.update(R"({"state": {"desired": {"colors": ["BLUE"]}}, "version": 10})");
    CHECK(fresh.code == 200);
    const Json doc = body(h.get());
    CHECK(doc["state"]["desired"] == Json::parse(R"({"colors": ["BLUE"]})"));
    CHECK(doc["version"] == 11);
}

TEST_CASE("update/accepted echoes the request's state with the metadata of its fields") {
    Harness h;
    h.clock.now = 1000;
    REQUIRE(h.update(R"({"state": {"desired": {"other": 1}, "reported": {"x": 1}}})").code == 200);
    h.clock.now = 2000;
    const Reply reply = h.update(R"({"state": {"desired": {"color": {"r": 10}, "engine": null}},
                                     "clientToken": "abc", "ignored": true})");
    REQUIRE(reply.code == 200);
    CHECK(published(reply, kAccepted) == Json::parse(R"({
        "state": {"desired": {"color": {"r": 10}, "engine": null}},
        "metadata": {"desired": {"color": {"r": {"timestamp": 2000}}, "engine": {"timestamp": 2000}}},
        "version": 2, "timestamp": 2000, "clientToken": "abc"})"));
    CHECK(body(reply) == published(reply, kAccepted));
}

TEST_CASE("the request state may be 8 KiB; one byte more is 413") {
    Harness h;
    const std::string frame = R"({"reported":{"k":""}})";
    const std::string exact(8192 - frame.size(), 'x');
    const Json at_limit = {{"state", {{"reported", {{"k", exact}}}}}};
    REQUIRE(at_limit["state"].dump().size() == 8192);
    CHECK(h.update_json(at_limit).code == 200);

    Harness g;
    const Json over = {{"state", {{"reported", {{"k", exact + "x"}}}}}, {"clientToken", "t"}};
    const Reply reply = g.update_json(over);
    CHECK(reply.code == 413);
    const Json error = published(reply, "$aws/things/Thing1/shadow/update/rejected");
    CHECK(error["message"] == "The payload exceeds the maximum size allowed");
    CHECK(error["clientToken"] == "t");
    CHECK(g.store.shadows.empty());
}

TEST_CASE("an update whose resulting document passes 8 KiB is 413 and changes nothing") {
    Harness h;
    REQUIRE(h.update_json(Json{{"state", {{"reported", {{"a", std::string(5000, 'a')}}}}}}).code == 200);
    const std::string before = h.store.shadows.begin()->second.document;
    const Reply reply = h.update_json(Json{{"state", {{"reported", {{"b", std::string(5000, 'b')}}}}}});
    CHECK(reply.code == 413);
    CHECK(h.store.shadows.begin()->second.document == before);
    CHECK(h.store.shadows.begin()->second.version == 1);
}

TEST_CASE("nesting: 6 levels in desired or reported are accepted, 7 are rejected") {
    Harness h;
    CHECK(h.update(R"({"state": {"desired": {"1": {"2": {"3": {"4": {"5": {"6": "x"}}}}}}}})").code == 200);
    CHECK(h.update(R"({"state": {"reported": {"1": {"2": {"3": {"4": {"5": {"6": "x"}}}}}}}})").code == 200);
    // AWS's quota example: "desired": {"one": {"two": {"three": {"four": {"five": {}}}}}}
    CHECK(h.update(R"({"state": {"desired": {"one": {"two": {"three": {"four": {"five": {}}}}}}}})").code == 200);
    // An array is a level too.
    CHECK(h.update(R"({"state": {"desired": {"1": {"2": {"3": {"4": {"5": ["x"]}}}}}}})").code == 200);
    for (const char* deep : {
             R"({"state": {"desired": {"1": {"2": {"3": {"4": {"5": {"6": {"7": "x"}}}}}}}}})",
             R"({"state": {"reported": {"1": {"2": {"3": {"4": {"5": {"6": {"7": "x"}}}}}}}}})",
             R"({"state": {"desired": {"1": {"2": {"3": {"4": {"5": {"6": "x"}}}}}},
                           "reported": {"1": {"2": {"3": {"4": {"5": {"6": {"7": "x"}}}}}}}}})",
             R"({"state": {"desired": {"1": {"2": {"3": {"4": {"5": {"6": ["x"]}}}}}}}})",
             R"({"state": {"desired": {"a": [[[[[[1]]]]]]}}})"}) {
        CAPTURE(deep);
        const Reply reply = h.update(deep);
        CHECK(reply.code == 400);
        CHECK(body(reply)["message"] == "JSON contains too many levels of nesting; maximum is 6");
    }
    CHECK(body(h.get())["version"] == 4);
}

TEST_CASE("a payload that is not UTF-8 is 415") {
    Harness h;
    for (const char* bad : {"{\"state\": {\"reported\": {\"a\": \"\xff\"}}}",
                            "{\"state\": {\"reported\": {\"a\": \"\xc0\xaf\"}}}",
                            "{\"state\": {\"reported\": {\"a\": \"\xed\xa0\x80\"}}}",
                            "{\"state\": {\"reported\": {\"a\": \"\xe2\x82\"}}}"}) {
        const Reply reply = h.update(std::string_view(bad));
        CHECK(reply.code == 415);
        CHECK(published(reply, kRejected)["message"] ==
              "Unsupported documented encoding; supported encoding is UTF-8");
    }
    CHECK(h.update("{\"state\": {\"reported\": {\"a\": \"caf\xc3\xa9 \xf0\x9f\x98\x80\"}}}").code == 200);
}
