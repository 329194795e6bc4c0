// Get and delete ("Interacting with shadows"), unknown things and missing shadows
// ("Device Shadow error messages", 404), named versus classic shadows, store failures,
// and the local-API calls.
#include <doctest/doctest.h>

#include "tests/unit/shadow/fakes.hpp"

using namespace gaffer::shadow;
using namespace gaffer::shadow::testing;

namespace {
constexpr const char* kGet = "$aws/things/Thing1/shadow/get";
constexpr const char* kDelete = "$aws/things/Thing1/shadow/delete";
}  // namespace

TEST_CASE("get returns desired, reported, delta, their metadata, version and timestamp") {
    Harness h;
    h.clock.now = 123456;
    REQUIRE(h.update(R"({"state": {"desired": {"lights": {"color": "RED"}, "engine": "ON"}}})").code == 200);
    h.clock.now = 789012;
    REQUIRE(h.update(R"({"state": {"reported": {"lights": {"color": "GREEN"}, "engine": "ON"}}})").code == 200);
    h.clock.now = 123456789;
    const Reply reply = h.publish(kGet, "");
    CHECK(reply.code == 200);
    REQUIRE(reply.publications.size() == 1);
    CHECK(reply.publications[0].topic == "$aws/things/Thing1/shadow/get/accepted");
    CHECK(published(reply, "$aws/things/Thing1/shadow/get/accepted") == Json::parse(R"({
        "state": {"desired": {"lights": {"color": "RED"}, "engine": "ON"},
                  "reported": {"lights": {"color": "GREEN"}, "engine": "ON"},
                  "delta": {"lights": {"color": "RED"}}},
        "metadata": {"desired": {"lights": {"color": {"timestamp": 123456}}, "engine": {"timestamp": 123456}},
                     "reported": {"lights": {"color": {"timestamp": 789012}}, "engine": {"timestamp": 789012}}},
        "version": 2, "timestamp": 123456789})"));
}

TEST_CASE("get omits empty sections and an empty delta") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"reported": {"temp": 55}}})").code == 200);
    const Json doc = body(h.get());
    CHECK(doc["state"] == Json::parse(R"({"reported": {"temp": 55}})"));
    CHECK_FALSE(doc["metadata"].contains("desired"));
}

TEST_CASE("get and delete echo a clientToken sent in their payload") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"reported": {"a": 1}}})").code == 200);
    CHECK(body(h.publish(kGet, R"({"clientToken": "g-1"})"))["clientToken"] == "g-1");
    // Other content is ignored, even when it is not JSON.
    CHECK(h.publish(kGet, "not json").code == 200);
    CHECK_FALSE(body(h.publish(kGet, "not json")).contains("clientToken"));
    const Reply too_long = h.publish(kGet, Json{{"clientToken", std::string(65, 't')}}.dump());
    CHECK(too_long.code == 400);
    CHECK(body(too_long)["message"] == "Invalid clientToken");
    CHECK(body(h.publish(kDelete, R"({"clientToken": "d-1"})"))["clientToken"] == "d-1");
}

TEST_CASE("get or delete of a shadow that does not exist is 404 naming the shadow") {
    Harness h;
    const Reply got = h.publish(kGet, R"({"clientToken": "x"})");
    CHECK(got.code == 404);
    const Json error = published(got, "$aws/things/Thing1/shadow/get/rejected");
    CHECK(error == Json::parse(R"({"code": 404, "message": "No shadow exists with name: 'Thing1'",
                                   "timestamp": 1591057529, "clientToken": "x"})"));
    const Reply deleted = h.publish(kDelete, "");
    CHECK(deleted.code == 404);
    CHECK(published(deleted, "$aws/things/Thing1/shadow/delete/rejected")["message"] ==
          "No shadow exists with name: 'Thing1'");
    const Reply named = h.publish("$aws/things/Thing1/shadow/name/config/get", "");
    CHECK(published(named, "$aws/things/Thing1/shadow/name/config/get/rejected")["message"] ==
          "No shadow exists with name: 'config'");
}

TEST_CASE("delete answers the deleted version; the shadow is then gone") {
    Harness h;
    for (int i = 0; i < 4; ++i) REQUIRE(h.update(R"({"state": {"reported": {"a": 1}}})").code == 200);
    h.clock.now = 1591057529;
    const Reply reply = h.publish(kDelete, "");
    CHECK(reply.code == 200);
    REQUIRE(reply.publications.size() == 1);
    CHECK(published(reply, "$aws/things/Thing1/shadow/delete/accepted") ==
          Json::parse(R"({"version": 4, "timestamp": 1591057529})"));
    CHECK(h.get().code == 404);
    CHECK(h.publish(kDelete, "").code == 404);
}

TEST_CASE("a shadow recreated after a delete continues the version numbering") {
    Harness h;
    for (int i = 0; i < 3; ++i) REQUIRE(h.update(R"({"state": {"reported": {"a": 1}}})").code == 200);
    REQUIRE(h.publish(kDelete, "").code == 200);
    const Reply recreated = h.update(R"({"state": {"reported": {"b": 2}}})");
    CHECK(body(recreated)["version"] == 4);
    // The old content is gone, and the recreation has no "previous" document.
    CHECK(body(h.get())["state"] == Json::parse(R"({"reported": {"b": 2}})"));
    CHECK_FALSE(published(recreated, "$aws/things/Thing1/shadow/update/documents").contains("previous"));
}

TEST_CASE("named shadows and the classic shadow of a thing are separate documents") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"reported": {"where": "classic"}}})").code == 200);
    const Reply named = h.publish("$aws/things/Thing1/shadow/name/config/update",
                                  R"({"state": {"reported": {"where": "named"}}})");
    REQUIRE(named.code == 200);
    CHECK(body(named)["version"] == 1);
    CHECK(named.publications[0].topic == "$aws/things/Thing1/shadow/name/config/update/accepted");
    CHECK(body(h.get())["state"]["reported"]["where"] == "classic");
    CHECK(body(h.publish("$aws/things/Thing1/shadow/name/config/get", ""))["state"]["reported"]["where"] ==
          "named");
    // Another thing's shadow of the same name is separate too.
    CHECK(h.publish("$aws/things/Thing2/shadow/name/config/get", "").code == 404);
    REQUIRE(h.publish("$aws/things/Thing1/shadow/name/config/delete", "").code == 200);
    CHECK(h.get().code == 200);
}

TEST_CASE("requests for a thing gafferd does not know are 404 Thing not found") {
    Harness h;
    for (const char* topic : {"$aws/things/Stranger/shadow/get", "$aws/things/Stranger/shadow/update",
                              "$aws/things/Stranger/shadow/name/n/delete"}) {
        CAPTURE(topic);
        const Reply reply =
            h.publish(topic, R"({"state": {"reported": {"a": 1}}, "clientToken": "who"})");
        CHECK(reply.code == 404);
        REQUIRE(reply.publications.size() == 1);
        CHECK(reply.publications[0].topic == std::string(topic) + "/rejected");
        const Json error = body(reply);
        CHECK(error["message"] == "Thing not found");
        CHECK(error["clientToken"] == "who");
    }
    CHECK(h.store.shadows.empty());
}

TEST_CASE("a failed save is 500, publishes only the rejection and keeps the stored shadow") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"desired": {"a": 1}}})").code == 200);
    const Stored before = h.store.shadows.begin()->second;
    h.store.fail_save = true;
    const Reply reply = h.update(R"({"state": {"desired": {"a": 2}}, "clientToken": "s"})");
    CHECK(reply.code == 500);
    REQUIRE(reply.publications.size() == 1);
    CHECK(reply.publications[0].topic == "$aws/things/Thing1/shadow/update/rejected");
    CHECK(body(reply) == Json::parse(R"({"code": 500, "message": "Internal service failure",
                                         "timestamp": 1591057529, "clientToken": "s"})"));
    CHECK(h.store.shadows.begin()->second.document == before.document);
    CHECK(h.store.shadows.begin()->second.version == before.version);

    const Reply deleted = h.publish(kDelete, "");
    CHECK(deleted.code == 500);
    REQUIRE(deleted.publications.size() == 1);
    CHECK(deleted.publications[0].topic == "$aws/things/Thing1/shadow/delete/rejected");
    h.store.fail_save = false;
    CHECK(body(h.get())["state"]["desired"]["a"] == 1);
}

TEST_CASE("a failed load is 500") {
    Harness h;
    h.store.fail_load = true;
    CHECK(h.get().code == 500);
    CHECK(h.update(R"({"state": {"reported": {"a": 1}}})").code == 500);
    CHECK(h.publish(kDelete, "").code == 500);
    CHECK(h.store.saves == 0);
}

TEST_CASE("local API: answers in the body, publishes accepted changes but no rejection") {
    Harness h;
    const Key key{"Thing1", "cfg"};
    const Reply updated = h.service.update(key, R"({"state": {"desired": {"mode": "eco"}}, "clientToken": "api"})");
    CHECK(updated.code == 200);
    CHECK(body(updated)["clientToken"] == "api");
    CHECK(has_publication(updated, "$aws/things/Thing1/shadow/name/cfg/update/accepted"));
    CHECK(has_publication(updated, "$aws/things/Thing1/shadow/name/cfg/update/delta"));
    CHECK(has_publication(updated, "$aws/things/Thing1/shadow/name/cfg/update/documents"));

    const Reply got = h.service.get(key, "g");
    CHECK(got.code == 200);
    CHECK(got.publications.empty());
    CHECK(body(got)["state"]["delta"]["mode"] == "eco");
    CHECK(body(got)["clientToken"] == "g");

    const Reply conflict = h.service.update(key, R"({"state": {"desired": {"mode": "x"}}, "version": 5})");
    CHECK(conflict.code == 409);
    CHECK(conflict.publications.empty());
    CHECK(h.service.get(Key{"Thing1", "bad name"}).code == 400);
    CHECK(h.service.get(key, std::string(65, 't')).code == 400);

    const Reply removed = h.service.remove(key);
    CHECK(removed.code == 200);
    CHECK(has_publication(removed, "$aws/things/Thing1/shadow/name/cfg/delete/accepted"));
    CHECK(h.service.get(key).code == 404);
}
