// Fakes for the hub's ports: an MQTT link that records what the hub does and lets a test
// deliver messages, in-memory stores, a scheduler that records invocations, and a defer
// queue the test runs by hand.
#pragma once

#include <deque>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "devices/hub/hub.hpp"

namespace gaffer::hub::testing {

class FakeLink final : public mqtt::Link {
public:
    void set_handlers(OnMessage on_message, OnConnection on_connection) override {
        on_message_ = std::move(on_message);
        on_connection_ = std::move(on_connection);
    }
    void start() override { started = true; }
    base::Result<void> subscribe(const std::string& filter, int) override {
        subscriptions.insert(filter);
        return {};
    }
    base::Result<void> unsubscribe(const std::string& filter) override {
        subscriptions.erase(filter);
        return {};
    }
    void publish(mqtt::Message message, Done done) override {
        if (unacked.size() >= capacity) {  // as the real link at max_inflight
            if (done) done(base::fail(base::Errc::busy, "fake link: max_inflight"));
            return;
        }
        published.push_back(message);
        if (hold_acks) {
            unacked.emplace_back(std::move(done));
            return;
        }
        if (done) done({});
    }
    bool connected() const override { return up; }
    void stop(std::function<void()> stopped) override {
        up = false;
        stopped();
    }

    void connect() {
        up = true;
        on_connection_(true, "");
    }
    void disconnect() {
        up = false;
        on_connection_(false, "test");
    }
    // ingested: the copy of a message the broker's ingest plugin handed over already.
    void deliver(std::string topic, std::string payload, int qos = 1, bool ingested = false) {
        on_message_(mqtt::Message{std::move(topic), std::move(payload), qos, false, ingested});
    }
    void ack_all(base::Result<void> result = {}) {
        auto pending = std::move(unacked);
        unacked.clear();
        for (auto& done : pending)
            if (done) done(result);
    }
    std::vector<mqtt::Message> on(std::string_view topic) const {
        std::vector<mqtt::Message> out;
        for (const auto& m : published)
            if (m.topic == topic) out.push_back(m);
        return out;
    }

    bool started = false;
    bool up = false;
    bool hold_acks = false;
    std::size_t capacity = 1000000;  // max_inflight: publishes refused while this many wait for acks
    std::set<std::string> subscriptions;
    std::vector<mqtt::Message> published;
    std::vector<Done> unacked;

private:
    OnMessage on_message_;
    OnConnection on_connection_;
};

class FakeTasks final : public Tasks {
public:
    base::Result<std::string> invoke_async(std::string_view task, std::string event) override {
        if (refuse) return base::fail(base::Errc::busy, "queue full");
        invocations.emplace_back(std::string(task), std::move(event));
        return "inv-" + std::to_string(invocations.size());
    }
    bool refuse = false;
    std::vector<std::pair<std::string, std::string>> invocations;
};

// Routes, outbox and batches in memory, plus the registry's and the shadow service's
// stores. Writes made inside a batch are undone when the batch is abandoned.
class FakeStorage final : public Storage, public registry::DeviceStore, public shadow::Store {
public:
    // Storage
    base::Result<void> begin_batch() override {
        if (in_batch) return base::fail(base::Errc::invalid, "nested");
        in_batch = true;
        saved_shadows = shadows;
        ++batches;
        return {};
    }
    base::Result<void> commit_batch() override {
        in_batch = false;
        if (fail_commit) {
            shadows = saved_shadows;
            return base::fail(base::Errc::io, "disk full");
        }
        return {};
    }
    void abandon_batch() override {
        if (in_batch) shadows = saved_shadows;
        in_batch = false;
    }
    base::Result<std::vector<routing::Route>> load_routes() override {
        std::vector<routing::Route> out;
        for (const auto& [id, r] : routes) out.push_back(r);
        return out;
    }
    base::Result<routing::Route> add_route(const routing::Route& route) override {
        auto stored = route;
        stored.id = ++next_route;
        routes[stored.id] = stored;
        return stored;
    }
    base::Result<void> remove_route(std::int64_t id) override {
        if (!routes.erase(id)) return base::fail(base::Errc::not_found, "no route");
        return {};
    }
    base::Result<std::int64_t> enqueue(const mqtt::Message& message) override {
        if (outbox.size() >= outbox_limit) return base::fail(base::Errc::busy, "outbox full");
        outbox[++next_seq] = message;
        return next_seq;
    }
    base::Result<std::vector<Queued>> peek_outbox(std::size_t limit) override {
        std::vector<Queued> out;
        for (const auto& [seq, m] : outbox) {
            if (out.size() == limit) break;
            out.push_back(Queued{seq, m});
        }
        return out;
    }
    base::Result<void> remove_outbox(std::int64_t seq) override {
        outbox.erase(seq);
        return {};
    }
    base::Result<std::uint64_t> outbox_size() override { return outbox.size(); }

    // registry::DeviceStore
    base::Result<void> insert(const registry::DeviceRecord& record) override {
        if (!devices.emplace(record.device.thing, record).second) return base::fail(base::Errc::conflict, "exists");
        return {};
    }
    base::Result<void> set_credentials(std::string_view thing, registry::Credentials c) override {
        auto it = devices.find(std::string(thing));
        if (it == devices.end()) return base::fail(base::Errc::not_found, "no device");
        it->second.credentials = c;
        return {};
    }
    base::Result<void> remove(std::string_view thing) override {
        if (!devices.erase(std::string(thing))) return base::fail(base::Errc::not_found, "no device");
        return {};
    }
    base::Result<std::optional<registry::DeviceRecord>> find(std::string_view thing) override {
        auto it = devices.find(std::string(thing));
        if (it == devices.end()) return std::optional<registry::DeviceRecord>{};
        return std::optional<registry::DeviceRecord>{it->second};
    }
    base::Result<std::vector<registry::DeviceRecord>> list() override {
        std::vector<registry::DeviceRecord> out;
        for (const auto& [thing, r] : devices) out.push_back(r);
        return out;
    }
    base::Result<std::size_t> count() override { return devices.size(); }

    // shadow::Store
    base::Result<std::optional<shadow::Stored>> load(const shadow::Key& key) override {
        auto it = shadows.find(key.thing + "/" + key.name);
        if (it == shadows.end()) return std::optional<shadow::Stored>{};
        return std::optional<shadow::Stored>{it->second};
    }
    base::Result<void> save(const shadow::Key& key, const shadow::Stored& stored) override {
        shadows[key.thing + "/" + key.name] = stored;
        return {};
    }
    bool thing_exists(std::string_view thing) override { return devices.count(std::string(thing)) > 0; }

    void add_thing(const std::string& thing) {
        registry::DeviceRecord r;
        r.device.thing = thing;
        r.credentials = registry::Credentials::active;
        devices[thing] = r;
    }

    bool in_batch = false;
    bool fail_commit = false;
    int batches = 0;
    std::size_t outbox_limit = 100;
    std::map<std::int64_t, routing::Route> routes;
    std::int64_t next_route = 0;
    std::map<std::int64_t, mqtt::Message> outbox;
    std::int64_t next_seq = 0;
    std::map<std::string, registry::DeviceRecord> devices;
    std::map<std::string, shadow::Stored> shadows, saved_shadows;
};

class ManualClock final : public base::Clock {
public:
    base::TimePoint now() const override { return {}; }
};

class FixedWallClock final : public shadow::WallClock {
public:
    std::int64_t epoch_seconds() const override { return 1700000000; }
};

class NoAlarm final : public registry::Alarm {
public:
    void arm(base::Duration, std::function<void()>) override {}
    void disarm() override {}
};

// Everything a Hub needs, wired; `run()` runs the deferred work like the loop would.
struct Rig {
    FakeLink link;
    FakeTasks tasks;
    FakeStorage storage;
    NoAlarm alarm;
    ManualClock clock;
    FixedWallClock wall;
    std::deque<std::function<void()>> deferred;
    std::vector<std::string> logged;
    Hub hub;

    explicit Rig(Options options = {})
        : hub(Ports{link, tasks, storage, storage, storage, alarm, clock, wall,
                    [this](std::function<void()> fn) { deferred.push_back(std::move(fn)); },
                    [this](base::LogLevel, std::string_view m) { logged.emplace_back(m); }},
              std::move(options)) {}

    void run() {
        while (!deferred.empty()) {
            auto fn = std::move(deferred.front());
            deferred.pop_front();
            fn();
        }
    }
    // Answers every dynsec command published so far with success.
    void answer_dynsec() {
        for (const auto& m : link.on(registry::kControlTopic)) {
            auto request = nlohmann::json::parse(m.payload);
            nlohmann::json responses = nlohmann::json::array();
            for (const auto& c : request["commands"]) {
                nlohmann::json r = {{"command", c["command"]}, {"correlationData", c["correlationData"]}};
                // What mosquitto 2.0.11 answers to the queries, for a broker with no clients.
                if (c["command"] == "getClient")
                    r["data"] = {{"client", {{"username", c["username"]}, {"roles", nlohmann::json::array()}}}};
                if (c["command"] == "listClients") r["data"] = {{"clients", nlohmann::json::array()}};
                if (c["command"] == "listRoles") r["data"] = {{"roles", nlohmann::json::array()}};
                responses.push_back(std::move(r));
            }
            link.deliver(std::string(registry::kResponseTopic), nlohmann::json{{"responses", responses}}.dump());
        }
        link.published.erase(std::remove_if(link.published.begin(), link.published.end(),
                                            [](const mqtt::Message& m) { return m.topic == registry::kControlTopic; }),
                             link.published.end());
    }
};

}  // namespace gaffer::hub::testing
