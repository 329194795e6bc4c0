// Runs the real gaffer::registry (Registry + DynsecAdmin) with its MQTT side on stdin/stdout,
// so that a Python test can carry the bytes to and from a real mosquitto. One JSON object per
// line each way.
//   in:  {"id":n,"op":"add"|"remove"|"rotate","thing":...}
//        {"id":n,"op":"grant","thing":...,"publish":[...],"subscribe":[...]}
//        {"id":n,"op":"reconcile"} {"id":n,"op":"presence","thing":...}
//        {"op":"message","topic":...,"payload":...}    a message gafferd's client received
//        {"op":"link","up":true|false}                   publish succeeds / fails
//   out: {"publish":{"topic":...,"payload":...}}          gafferd's client must publish this
//        {"id":n,"ok":true,...} / {"id":n,"ok":false,"code":...,"error":...}
// argv[1]: dynsec timeout in milliseconds (default 3000).
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "devices/registry/registry.hpp"

using namespace gaffer;
using nlohmann::json;

namespace {

void emit(const json& line) {
    std::cout << line.dump() << "\n" << std::flush;
}

json failure(const base::Error& e) {
    return {{"ok", false}, {"code", std::string(base::errc_name(e.code))}, {"error", e.message}};
}

class PollAlarm final : public registry::Alarm {
public:
    void arm(base::Duration after, std::function<void()> fire) override {
        deadline_ = std::chrono::steady_clock::now() + after;
        fire_ = std::move(fire);
    }
    void disarm() override { fire_ = nullptr; }
    int poll_timeout_ms() const {
        if (!fire_) return -1;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
        return left.count() < 0 ? 0 : static_cast<int>(left.count()) + 1;
    }
    void fire_if_due() {
        if (fire_ && std::chrono::steady_clock::now() >= deadline_) {
            auto fire = std::move(fire_);
            fire_ = nullptr;
            fire();
        }
    }

private:
    base::TimePoint deadline_{};
    std::function<void()> fire_;
};

class MemoryStore final : public registry::DeviceStore {
public:
    base::Result<void> insert(const registry::DeviceRecord& r) override {
        if (!records_.emplace(r.device.thing, r).second) return base::fail(base::Errc::conflict, "exists");
        return {};
    }
    base::Result<void> set_credentials(std::string_view thing, registry::Credentials c) override {
        auto it = records_.find(std::string(thing));
        if (it == records_.end()) return base::fail(base::Errc::not_found, "no device");
        it->second.credentials = c;
        return {};
    }
    base::Result<void> remove(std::string_view thing) override {
        if (!records_.erase(std::string(thing))) return base::fail(base::Errc::not_found, "no device");
        return {};
    }
    base::Result<std::optional<registry::DeviceRecord>> find(std::string_view thing) override {
        auto it = records_.find(std::string(thing));
        if (it == records_.end()) return std::optional<registry::DeviceRecord>{};
        return std::optional<registry::DeviceRecord>{it->second};
    }
    base::Result<std::vector<registry::DeviceRecord>> list() override {
        std::vector<registry::DeviceRecord> out;
        for (const auto& [k, v] : records_) out.push_back(v);
        return out;
    }
    base::Result<std::size_t> count() override { return records_.size(); }
    std::string credentials(const std::string& thing) const {
        auto it = records_.find(thing);
        return it == records_.end() ? "none" : std::string(registry::credentials_name(it->second.credentials));
    }

private:
    std::map<std::string, registry::DeviceRecord> records_;
};

}  // namespace

int main(int argc, char** argv) {
    const long timeout_ms = argc > 1 ? std::stol(argv[1]) : 3000;
    base::SteadyClock clock;
    PollAlarm alarm;
    MemoryStore store;
    bool link_up = true;
    registry::DynsecAdmin admin(
        [&](std::string_view topic, std::string payload) -> base::Result<void> {
            if (!link_up) return base::fail(base::Errc::unavailable, "MQTT link is down");
            emit({{"publish", {{"topic", topic}, {"payload", payload}}}});
            return {};
        },
        alarm, clock, registry::DynsecAdmin::Options{std::chrono::milliseconds(timeout_ms), 16, 200});
    registry::Registry reg(store, admin);

    auto handle = [&](const json& in) {
        const std::string op = in.value("op", "");
        const json id = in.value("id", json());
        const std::string thing = in.value("thing", "");
        auto reply = [id](json body) {
            body["id"] = id;
            emit(body);
        };
        if (op == "message") {
            const std::string topic = in["topic"], payload = in["payload"];
            if (admin.feed(topic, payload)) return;
            if (auto event = registry::parse_presence(topic, payload)) reg.on_presence(*event);
        } else if (op == "link") {
            link_up = in["up"];
            if (!link_up) admin.fail_all({base::Errc::unavailable, "MQTT link is down"});
        } else if (op == "add") {
            reg.add(registry::Device{thing, json::object(), {}}, [&store, thing, reply](auto r) {
                if (!r) return reply(failure(r.error()));
                reply({{"ok", true}, {"password", r->password},
                       {"credentials", registry::credentials_name(r->credentials)}, {"detail", r->detail},
                       {"stored", store.credentials(thing)}});
            });
        } else if (op == "remove") {
            reg.remove(thing, [reply](auto r) { reply(r ? json{{"ok", true}} : failure(r.error())); });
        } else if (op == "rotate") {
            reg.rotate(thing, [&store, thing, reply](auto r) {
                if (!r) return reply(failure(r.error()));
                reply({{"ok", true}, {"password", *r}, {"stored", store.credentials(thing)}});
            });
        } else if (op == "grant") {
            registry::Grants g{in.value("publish", std::vector<std::string>{}),
                               in.value("subscribe", std::vector<std::string>{})};
            reg.set_grants(thing, g, [reply](auto r) { reply(r ? json{{"ok", true}} : failure(r.error())); });
        } else if (op == "reconcile") {
            reg.reconcile([reply](auto r) {
                if (!r) return reply(failure(r.error()));
                reply({{"ok", true}, {"created", r->created}, {"roles", r->roles}, {"missing", r->missing},
                       {"orphans", r->orphans}, {"problems", r->problems}});
            });
        } else if (op == "presence") {
            auto p = reg.presence(thing);
            reply({{"ok", true}, {"known", p.has_value()}, {"connected", p && p->connected}});
        } else {
            reply(failure({base::Errc::invalid, "unknown op " + op}));
        }
    };

    std::string buffer;
    char chunk[65536];
    while (true) {
        pollfd pfd{STDIN_FILENO, POLLIN, 0};
        int ready = ::poll(&pfd, 1, alarm.poll_timeout_ms());
        if (ready < 0 && errno != EINTR) return 1;
        alarm.fire_if_due();
        if (ready <= 0) continue;
        ssize_t got = ::read(STDIN_FILENO, chunk, sizeof chunk);
        if (got <= 0) return 0;
        buffer.append(chunk, static_cast<std::size_t>(got));
        std::size_t nl;
        while ((nl = buffer.find('\n')) != std::string::npos) {
            auto line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            auto in = json::parse(line, nullptr, false);
            if (in.is_discarded() || !in.is_object()) {
                emit(failure({base::Errc::invalid, "driver input is not a JSON object"}));
                continue;
            }
            handle(in);
        }
    }
}
