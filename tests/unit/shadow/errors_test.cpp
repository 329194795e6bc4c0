// The 400 errors of "Device Shadow error messages", each with its exact message, and the
// error response document {"code", "message", "timestamp", "clientToken"}.
#include <doctest/doctest.h>

#include <string>

#include "tests/unit/shadow/fakes.hpp"

using namespace gaffer::shadow;
using namespace gaffer::shadow::testing;

namespace {
constexpr const char* kRejected = "$aws/things/Thing1/shadow/update/rejected";

// Publishes `payload` as an update; checks it is rejected with `code` and `message`,
// that only the rejection is published, and that nothing is stored.
Json expect_rejected(std::string_view payload, int code, const std::string& message) {
    Harness h;
    const Reply reply = h.update(payload);
    CHECK(reply.code == code);
    REQUIRE(reply.publications.size() == 1);
    CHECK(reply.publications[0].topic == kRejected);
    const Json error = published(reply, kRejected);
    CHECK(error["code"] == code);
    CHECK(error["message"] == message);
    CHECK(error["timestamp"] == h.clock.now);
    CHECK(h.store.saves == 0);
    return error;
}
}  // namespace

TEST_CASE("400 Invalid JSON") {
    for (const char* payload : {"", "{", "{\"state\": }", "not json", "[1, 2]", "42", "\"s\"",
                                "{\"state\": {\"reported\": {\"a\": 1}}} trailing"}) {
        CAPTURE(payload);
        const Json error = expect_rejected(payload, 400, "Invalid JSON");
        CHECK_FALSE(error.contains("clientToken"));
    }
}

TEST_CASE("400 Missing required node: state") {
    expect_rejected(R"({"clientToken": "t"})", 400, "Missing required node: state");
    const Json error = expect_rejected(R"({"desired": {"a": 1}, "clientToken": "t"})", 400,
                                       "Missing required node: state");
    CHECK(error["clientToken"] == "t");
}

TEST_CASE("400 State node must be an object") {
    for (const char* payload : {R"({"state": 1})", R"({"state": "on"})", R"({"state": [1]})",
                                R"({"state": true})"}) {
        CAPTURE(payload);
        expect_rejected(payload, 400, "State node must be an object");
    }
}

TEST_CASE("400 Desired node must be an object") {
    for (const char* payload : {R"({"state": {"desired": 1}})", R"({"state": {"desired": "x"}})",
                                R"({"state": {"desired": ["a"]}})"}) {
        CAPTURE(payload);
        expect_rejected(payload, 400, "Desired node must be an object");
    }
}

TEST_CASE("400 Reported node must be an object") {
    for (const char* payload : {R"({"state": {"reported": 1}})", R"({"state": {"reported": false}})",
                                R"({"state": {"reported": [{}]}})"}) {
        CAPTURE(payload);
        expect_rejected(payload, 400, "Reported node must be an object");
    }
}

TEST_CASE("400 Invalid version") {
    for (const char* payload : {R"({"state": {"reported": {}}, "version": "1"})",
                                R"({"state": {"reported": {}}, "version": 1.5})",
                                R"({"state": {"reported": {}}, "version": -1})",
                                R"({"state": {"reported": {}}, "version": true})",
                                R"({"state": {"reported": {}}, "version": {}})",
                                R"({"state": {"reported": {}}, "version": 18446744073709551615})"}) {
        CAPTURE(payload);
        expect_rejected(payload, 400, "Invalid version");
    }
}

TEST_CASE("400 Invalid clientToken: longer than 64 bytes or not a string") {
    const std::string token64(64, 'k');
    Harness h;
    const Reply ok = h.update_json(Json{{"state", {{"reported", {{"a", 1}}}}}, {"clientToken", token64}});
    CHECK(ok.code == 200);
    CHECK(body(ok)["clientToken"] == token64);

    const Json too_long = {{"state", {{"reported", {{"a", 1}}}}}, {"clientToken", token64 + "k"}};
    const Json error = expect_rejected(too_long.dump(), 400, "Invalid clientToken");
    CHECK_FALSE(error.contains("clientToken"));
    // 64 bytes, not 64 characters: 33 two-byte characters are too long.
    std::string wide;
    for (int i = 0; i < 33; ++i) wide += "\xc3\xa9";
    expect_rejected(Json{{"state", Json::object()}, {"clientToken", wide}}.dump(), 400,
                    "Invalid clientToken");
    for (const char* payload : {R"({"state": {}, "clientToken": 5})",
                                R"({"state": {}, "clientToken": null})",
                                R"({"state": {}, "clientToken": ["t"]})"}) {
        CAPTURE(payload);
        expect_rejected(payload, 400, "Invalid clientToken");
    }
}

TEST_CASE("400 State contains an invalid node") {
    for (const char* payload : {R"({"state": {"delta": {"a": 1}}})",
                                R"({"state": {"reported": {"a": 1}, "metadata": {}}})",
                                R"({"state": {"Desired": {"a": 1}}})"}) {
        CAPTURE(payload);
        expect_rejected(payload, 400, "State contains an invalid node");
    }
}

TEST_CASE("400 JSON contains too many levels of nesting, even far past the limit") {
    std::string deep = R"({"state": {"reported": {"a": )";
    for (int i = 0; i < 10000; ++i) deep += '[';
    for (int i = 0; i < 10000; ++i) deep += ']';
    deep += "}}}";
    expect_rejected(deep, 400, "JSON contains too many levels of nesting; maximum is 6");
}

TEST_CASE("413 for a payload far over any limit, before it is parsed") {
    std::string huge = R"({"state": {"reported": {"a": ")";
    huge += std::string(200000, 'x');
    huge += "\"}}}";
    expect_rejected(huge, 413, "The payload exceeds the maximum size allowed");
}

TEST_CASE("the error document carries the clientToken of the request") {
    Harness h;
    const Reply reply = h.update(R"({"state": {"desired": 5}, "clientToken": "err-7"})");
    CHECK(body(reply) == Json::parse(R"({"code": 400, "message": "Desired node must be an object",
                                         "timestamp": 1591057529, "clientToken": "err-7"})"));
}

TEST_CASE("an empty state and unknown top-level properties are accepted") {
    Harness h;
    const Reply reply = h.update(R"({"state": {}, "metadata": {"x": 1}, "timestamp": 5})");
    CHECK(reply.code == 200);
    CHECK(body(h.get())["state"] == Json::object());
}
