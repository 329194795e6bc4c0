// Fakes for the registry's ports: a manual clock, an alarm fired by hand, a broker that
// answers dynsec commands from a script, and an in-memory DeviceStore.
#pragma once

#include <deque>
#include <map>

#include "devices/registry/registry.hpp"

namespace gaffer::registry::testing {

class ManualClock final : public base::Clock {
public:
    base::TimePoint now() const override { return now_; }
    void advance(base::Duration d) { now_ += d; }

private:
    base::TimePoint now_{};
};

class FakeAlarm final : public Alarm {
public:
    void arm(base::Duration after, std::function<void()> fire) override {
        armed = true;
        this->after = after;
        this->fire_fn = std::move(fire);
    }
    void disarm() override { armed = false; }
    void fire() {
        REQUIRE(armed);
        armed = false;
        fire_fn();
    }
    bool armed = false;
    base::Duration after{};
    std::function<void()> fire_fn;
};

// Answers each command through `answer` (default: success), or fails whole batches while
// `down` is set. Keeps every command it saw.
class FakeBroker final : public BrokerAdmin {
public:
    void execute(std::vector<Command> commands, Done done) override {
        batches.push_back(commands);
        if (down) return done(base::fail(base::Errc::timeout, "broker down"));
        std::vector<CommandResult> out;
        for (const auto& c : commands) out.push_back(answer(c));
        if (hold) {
            held.emplace_back(std::move(done), std::move(out));
            return;
        }
        done(std::move(out));
    }
    // Completes batches held while `hold` was set, oldest first.
    void release() {
        while (!held.empty()) {
            auto [done, out] = std::move(held.front());
            held.pop_front();
            done(std::move(out));
        }
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& b : batches)
            for (const auto& c : b) out.push_back(c["command"].get<std::string>());
        return out;
    }
    static CommandResult ok(const Command& c, nlohmann::json data = nullptr) {
        return {c["command"].get<std::string>(), std::nullopt, std::move(data), std::nullopt};
    }
    static CommandResult refused(const Command& c, std::string error) {
        return {c["command"].get<std::string>(), std::move(error), nullptr, std::nullopt};
    }

    bool down = false;
    bool hold = false;
    std::function<CommandResult(const Command&)> answer = [](const Command& c) { return ok(c); };
    std::vector<std::vector<Command>> batches;
    std::deque<std::pair<Done, std::vector<CommandResult>>> held;
};

// A dynsec plugin in memory: answers commands as mosquitto 2.0.11 does (same errors).
struct FakeDynsec {
    struct Client {
        std::string password, clientid;
        std::vector<std::string> roles;
    };
    std::map<std::string, Client> clients;
    std::map<std::string, nlohmann::json> roles;  // name -> acls

    CommandResult operator()(const Command& c) {
        const std::string name = c["command"];
        auto user = c.value("username", std::string());
        auto role = c.value("rolename", std::string());
        using B = FakeBroker;
        if (name == "createRole") {
            if (roles.count(role)) return B::refused(c, "Role already exists");
            roles[role] = c.value("acls", nlohmann::json::array());
        } else if (name == "modifyRole") {
            if (!roles.count(role)) return B::refused(c, "Role not found");
            roles[role] = c.value("acls", nlohmann::json::array());
        } else if (name == "deleteRole") {
            if (!roles.erase(role)) return B::refused(c, "Role not found");
        } else if (name == "listRoles") {
            auto list = nlohmann::json::array();
            for (const auto& [r, acls] : roles)
                list.push_back(c.value("verbose", false) ? nlohmann::json{{"rolename", r}, {"acls", acls}} : nlohmann::json(r));
            return B::ok(c, {{"totalCount", list.size()}, {"roles", list}});
        } else if (name == "createClient") {
            if (clients.count(user)) return B::refused(c, "Client already exists");
            Client client{c["password"], c.value("clientid", ""), {}};
            for (const auto& r : c["roles"]) {
                if (!roles.count(r["rolename"])) return B::refused(c, "Role not found");
                client.roles.push_back(r["rolename"]);
            }
            clients[user] = client;
        } else if (name == "deleteClient") {
            if (!clients.erase(user)) return B::refused(c, "Client not found");
        } else if (name == "setClientPassword") {
            if (!clients.count(user)) return B::refused(c, "Client not found");
            clients[user].password = c["password"];
        } else if (name == "addClientRole") {
            if (!clients.count(user)) return B::refused(c, "Client not found");
            if (!roles.count(role)) return B::refused(c, "Role not found");
            for (const auto& r : clients[user].roles)
                if (r == role) return B::refused(c, "Internal error");
            clients[user].roles.push_back(role);
        } else if (name == "getClient" || name == "listClients") {
            auto view = [](const std::string& u, const Client& cl) {
                auto rs = nlohmann::json::array();
                for (const auto& r : cl.roles) rs.push_back({{"rolename", r}});
                return nlohmann::json{{"username", u}, {"clientid", cl.clientid}, {"roles", rs}, {"groups", nlohmann::json::array()}};
            };
            if (name == "getClient") {
                if (!clients.count(user)) return B::refused(c, "Client not found");
                return B::ok(c, {{"client", view(user, clients[user])}});
            }
            auto all = nlohmann::json::array();
            for (const auto& [u, cl] : clients) all.push_back(view(u, cl));
            return B::ok(c, {{"totalCount", all.size()}, {"clients", all}});
        } else {
            return B::refused(c, "Unknown command");
        }
        return B::ok(c);
    }
};

class MemoryStore final : public DeviceStore {
public:
    base::Result<void> insert(const DeviceRecord& record) override {
        if (records.count(record.device.thing))
            return base::fail(base::Errc::conflict, "device exists: " + record.device.thing);
        records[record.device.thing] = record;
        return {};
    }
    base::Result<void> set_credentials(std::string_view thing, Credentials c) override {
        auto it = records.find(std::string(thing));
        if (it == records.end()) return base::fail(base::Errc::not_found, "no device");
        it->second.credentials = c;
        return {};
    }
    base::Result<void> remove(std::string_view thing) override {
        if (!records.erase(std::string(thing))) return base::fail(base::Errc::not_found, "no device");
        return {};
    }
    base::Result<std::optional<DeviceRecord>> find(std::string_view thing) override {
        auto it = records.find(std::string(thing));
        if (it == records.end()) return std::optional<DeviceRecord>{};
        return std::optional<DeviceRecord>{it->second};
    }
    base::Result<std::vector<DeviceRecord>> list() override {
        std::vector<DeviceRecord> out;
        for (const auto& [k, v] : records) out.push_back(v);
        return out;
    }
    base::Result<std::size_t> count() override { return records.size(); }

    Credentials credentials(const std::string& thing) const { return records.at(thing).credentials; }
    std::map<std::string, DeviceRecord> records;
};

}  // namespace gaffer::registry::testing
