// Fakes for the shadow service tests: an in-memory Store that can be told to fail, a
// manual wall clock, and a harness that publishes requests the way the daemon does.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "devices/shadow/shadow.hpp"

namespace gaffer::shadow::testing {

using Json = nlohmann::json;

class FakeStore final : public Store {
public:
    base::Result<std::optional<Stored>> load(const Key& key) override {
        ++loads;
        if (fail_load) return base::fail(base::Errc::io, "load failed");
        const auto it = shadows.find({key.thing, key.name});
        if (it == shadows.end()) return std::optional<Stored>();
        return std::optional<Stored>(it->second);
    }
    base::Result<void> save(const Key& key, const Stored& stored) override {
        ++saves;
        if (fail_save) return base::fail(base::Errc::io, "disk full");
        shadows[{key.thing, key.name}] = stored;
        return {};
    }
    bool thing_exists(std::string_view thing) override { return things.count(std::string(thing)) > 0; }

    std::map<std::pair<std::string, std::string>, Stored> shadows;
    std::set<std::string> things{"Thing1", "Thing2"};
    bool fail_load = false;
    bool fail_save = false;
    int loads = 0;
    int saves = 0;
};

class ManualWallClock final : public WallClock {
public:
    std::int64_t epoch_seconds() const override { return now; }
    std::int64_t now = 1591057529;
};

struct Harness {
    FakeStore store;
    ManualWallClock clock;
    Service service{store, clock};

    // Publishes `payload` on `topic` as a device would; the topic must be a request.
    Reply publish(std::string_view topic, std::string_view payload) {
        const auto request = parse_request_topic(topic);
        REQUIRE(request.has_value());
        return service.handle(*request, payload);
    }
    Reply update(std::string_view payload) {
        return publish("$aws/things/Thing1/shadow/update", payload);
    }
    Reply update_json(const Json& payload) { return update(std::string_view(payload.dump())); }
    Reply get() { return publish("$aws/things/Thing1/shadow/get", ""); }
};

// The publication on `topic`, parsed; fails the test when there is none.
inline Json published(const Reply& reply, std::string_view topic) {
    for (const auto& p : reply.publications) {
        if (p.topic == topic) return Json::parse(p.payload);
    }
    FAIL("nothing published on " << topic);
    return {};
}

inline bool has_publication(const Reply& reply, std::string_view topic) {
    for (const auto& p : reply.publications) {
        if (p.topic == topic) return true;
    }
    return false;
}

inline Json body(const Reply& reply) { return Json::parse(reply.body); }

}  // namespace gaffer::shadow::testing
