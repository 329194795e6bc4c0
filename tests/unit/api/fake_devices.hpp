// A DeviceBackend over plain maps, recording what the router asked of it. Async calls
// answer at once, or are held for the test to complete (hold_async = true).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/api/api.hpp"

namespace gaffer::api::test {

class FakeDevices : public DeviceBackend {
public:
    std::map<std::string, DeviceView> devices;
    std::map<std::int64_t, RouteView> routes;
    std::map<std::pair<std::string, std::string>, nlohmann::json> shadows;  // (thing, name)
    DeviceMetrics metrics;

    bool hold_async = false;
    std::vector<std::function<void()>> held;  // completions waiting for the test
    bool broker_reachable = true;             // false: new devices are "pending"
    std::optional<base::Error> fail_next;     // the next call (any) fails with this

    // What was asked.
    std::vector<std::string> added_documents;
    std::vector<std::pair<std::string, std::size_t>> list_requests;  // (after, limit)
    std::vector<std::string> shadow_requests;  // "GET thing/name", "POST thing/name <body>"
    int rotations = 0;
    std::int64_t next_route = 1;

    void complete_held() {
        auto pending = std::move(held);
        held.clear();
        for (auto& f : pending) f();
    }

    void add_device(std::string_view device_json,
                    std::function<void(base::Result<std::pair<DeviceView, Credentials>>)> done) override {
        added_documents.emplace_back(device_json);
        auto doc = nlohmann::json::parse(device_json);
        DeviceView d;
        d.thing = doc.at("thing").get<std::string>();
        d.attributes_json = doc.value("attributes", nlohmann::json::object()).dump();
        d.groups = doc.value("groups", std::vector<std::string>{});
        d.created_at_ms = 1714564800000;  // 2024-05-01T12:00:00Z
        d.credentials = broker_reachable ? "active" : "pending";
        base::Result<std::pair<DeviceView, Credentials>> result =
            std::make_pair(d, Credentials{d.thing, d.thing, d.thing, "pw-" + d.thing, "tcp://gateway:1883"});
        if (auto e = take_failure()) {
            result = tl::unexpected<base::Error>(*e);
        } else if (devices.count(d.thing) != 0) {
            result = base::fail(base::Errc::conflict, "device " + base::quoted(d.thing) + " exists");
        } else {
            devices[d.thing] = d;
        }
        finish([done = std::move(done), result] { done(result); });
    }
    base::Result<std::vector<DeviceView>> list_devices(std::string_view after, std::size_t limit) override {
        list_requests.emplace_back(std::string(after), limit);
        if (auto e = take_failure()) return tl::unexpected<base::Error>(*e);
        std::vector<DeviceView> out;
        for (auto it = devices.upper_bound(std::string(after)); it != devices.end() && out.size() < limit; ++it) {
            out.push_back(it->second);
        }
        return out;
    }
    base::Result<DeviceView> show_device(std::string_view thing) override {
        if (auto e = take_failure()) return tl::unexpected<base::Error>(*e);
        auto it = devices.find(std::string(thing));
        if (it == devices.end()) return base::fail(base::Errc::not_found, "no device " + base::quoted(thing));
        return it->second;
    }
    void remove_device(std::string_view thing, std::function<void(base::Result<void>)> done) override {
        base::Result<void> result;
        if (auto e = take_failure()) result = tl::unexpected<base::Error>(*e);
        else if (devices.erase(std::string(thing)) == 0) {
            result = base::fail(base::Errc::not_found, "no device " + base::quoted(thing));
        }
        finish([done = std::move(done), result] { done(result); });
    }
    void rotate_credentials(std::string_view thing, std::function<void(base::Result<Credentials>)> done) override {
        base::Result<Credentials> result = Credentials{std::string(thing), std::string(thing), std::string(thing),
                                                       "rotated-" + std::to_string(++rotations), "tcp://gateway:1883"};
        if (auto e = take_failure()) result = tl::unexpected<base::Error>(*e);
        else if (devices.count(std::string(thing)) == 0) {
            result = base::fail(base::Errc::not_found, "no device " + base::quoted(thing));
        }
        finish([done = std::move(done), result] { done(result); });
    }

    // Shadows, AWS-shaped: a missing shadow is 404, an update without "state" 400.
    ShadowAnswer get_shadow(std::string_view thing, std::string_view name) override {
        shadow_requests.push_back("GET " + std::string(thing) + "/" + std::string(name));
        auto it = shadows.find({std::string(thing), std::string(name)});
        if (it == shadows.end()) return rejected(404, "No shadow exists with name: '" + std::string(thing) + "'");
        return {200, it->second.dump()};
    }
    ShadowAnswer update_shadow(std::string_view thing, std::string_view name, std::string_view request) override {
        shadow_requests.push_back("POST " + std::string(thing) + "/" + std::string(name) + " " + std::string(request));
        auto doc = nlohmann::json::parse(request);
        if (!doc.contains("state")) return rejected(400, "Missing required node: state");
        auto& shadow = shadows[{std::string(thing), std::string(name)}];
        const int version = (shadow.is_object() ? shadow.value("version", 0) : 0) + 1;
        shadow = {{"state", doc["state"]}, {"version", version}, {"timestamp", 1714564800}};
        return {200, shadow.dump()};
    }
    ShadowAnswer delete_shadow(std::string_view thing, std::string_view name) override {
        shadow_requests.push_back("DELETE " + std::string(thing) + "/" + std::string(name));
        auto it = shadows.find({std::string(thing), std::string(name)});
        if (it == shadows.end()) return rejected(404, "No shadow exists with name: '" + std::string(thing) + "'");
        const int version = it->second.value("version", 0);
        shadows.erase(it);
        return {200, nlohmann::json({{"version", version}, {"timestamp", 1714564800}}).dump()};
    }

    void add_route(std::string_view source, std::string_view filter, std::string_view target,
                   std::function<void(base::Result<RouteView>)> done) override {
        if (auto e = take_failure()) return done(tl::unexpected<base::Error>(*e));
        if (source.rfind("device:", 0) != 0 && source.rfind("task:", 0) != 0 && source != "shadow") {
            return done(base::fail(base::Errc::invalid, "source: " + base::quoted(source) + " is not an endpoint"));
        }
        RouteView r{next_route++, std::string(source), std::string(filter), std::string(target), 1714564800000};
        routes[r.id] = r;
        done(r);
    }
    base::Result<std::vector<RouteView>> list_routes() override {
        if (auto e = take_failure()) return tl::unexpected<base::Error>(*e);
        std::vector<RouteView> out;
        for (auto& [id, r] : routes) out.push_back(r);
        return out;
    }
    void remove_route(std::int64_t id, std::function<void(base::Result<void>)> done) override {
        if (auto e = take_failure()) return done(tl::unexpected<base::Error>(*e));
        if (routes.erase(id) == 0) return done(base::fail(base::Errc::not_found, "no route " + std::to_string(id)));
        done({});
    }
    DeviceMetrics device_metrics() override { return metrics; }

private:
    static ShadowAnswer rejected(int code, const std::string& message) {
        return {code, nlohmann::json({{"code", code}, {"message", message}, {"timestamp", 1714564800}}).dump()};
    }
    std::optional<base::Error> take_failure() { return std::exchange(fail_next, std::nullopt); }
    void finish(std::function<void()> completion) {
        if (hold_async) held.push_back(std::move(completion));
        else completion();
    }
};

}  // namespace gaffer::api::test
