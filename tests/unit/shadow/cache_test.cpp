// The parsed-document cache must never change an answer: the Store stays the source of
// truth, whatever happened to it behind the service's back, and any capacity works.
#include <doctest/doctest.h>

#include <string>

#include "tests/unit/shadow/fakes.hpp"

using namespace gaffer::shadow;
using namespace gaffer::shadow::testing;

TEST_CASE("a document changed in the store behind the service is read again") {
    Harness h;
    REQUIRE(h.update(R"({"state": {"reported": {"a": 1}}})").code == 200);
    REQUIRE(h.update(R"({"state": {"reported": {"b": 2}}})").code == 200);
    // Same version, other text: e.g. restored from a backup.
    Stored& stored = h.store.shadows.begin()->second;
    stored.document = R"({"state":{"reported":{"z":9}},"metadata":{"reported":{"z":{"timestamp":1}}}})";
    REQUIRE(h.update(R"({"state": {"reported": {"c": 3}}})").code == 200);
    CHECK(body(h.get())["state"]["reported"] == Json::parse(R"({"z": 9, "c": 3})"));
}

TEST_CASE("a stored document that is not a shadow document is 500, not a crash") {
    Harness h;
    h.store.shadows[{"Thing1", ""}] = Stored{"not json", 3, false};
    CHECK(h.update(R"({"state": {"reported": {"a": 1}}})").code == 500);
    CHECK(h.get().code == 500);
}

TEST_CASE("answers are the same with no cache and with a cache smaller than the shadows") {
    for (std::size_t capacity : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{64}}) {
        CAPTURE(capacity);
        FakeStore store;
        ManualWallClock clock;
        Limits limits;
        limits.cached_documents = capacity;
        Service service(store, clock, limits);
        for (int round = 0; round < 4; ++round) {
            for (const char* name : {"a", "b", "c"}) {
                const Reply reply = service.update(
                    Key{"Thing1", name},
                    Json{{"state", {{"reported", {{"round", round}, {name, round}}}}}}.dump());
                REQUIRE(reply.code == 200);
                CHECK(Json::parse(reply.body)["version"] == round + 1);
            }
        }
        for (const char* name : {"a", "b", "c"}) {
            const Json doc = Json::parse(service.get(Key{"Thing1", name}).body);
            CHECK(doc["state"]["reported"] == Json{{"round", 3}, {name, 3}});
        }
        REQUIRE(service.remove(Key{"Thing1", "a"}).code == 200);
        CHECK(service.update(Key{"Thing1", "a"}, R"({"state": {"reported": {"x": 1}}})").code == 200);
        CHECK(Json::parse(service.get(Key{"Thing1", "a"}).body)["state"]["reported"] == Json{{"x", 1}});
    }
}
