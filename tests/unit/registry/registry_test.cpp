#include <doctest/doctest.h>

#include <algorithm>

#include "fakes.hpp"

using namespace gaffer;
using namespace gaffer::registry;
using namespace gaffer::registry::testing;

namespace {

struct Rig {
    MemoryStore store;
    FakeDynsec dynsec;
    FakeBroker broker;
    std::int64_t wall = 1000;
    std::unique_ptr<Registry> registry;

    explicit Rig(std::size_t max_devices = 100) {
        broker.answer = std::ref(dynsec);
        dynsec.clients["gaffer-admin"] = {"adminpw", "", {"admin"}};
        dynsec.roles["admin"] = nlohmann::json::array();
        fresh_registry(max_devices);
    }
    // A new Registry over the same store and broker: gafferd restarted.
    void fresh_registry(std::size_t max_devices = 100) {
        registry.reset();
        registry = std::make_unique<Registry>(
            store, broker, Registry::Options{"gaffer-admin", max_devices, [this] { return wall; }});
    }
    Registry::Enrollment add(std::string thing) {
        std::optional<base::Result<Registry::Enrollment>> out;
        registry->add(Device{std::move(thing), nlohmann::json::object(), {}}, [&](auto r) { out = r; });
        REQUIRE(out);
        REQUIRE(*out);
        return **out;
    }
    base::Result<void> remove(std::string thing) {
        std::optional<base::Result<void>> out;
        registry->remove(std::move(thing), [&](auto r) { out = r; });
        REQUIRE(out);
        return *out;
    }
    base::Result<std::string> rotate(std::string thing) {
        std::optional<base::Result<std::string>> out;
        registry->rotate(std::move(thing), [&](auto r) { out = r; });
        REQUIRE(out);
        return *out;
    }
    base::Result<void> grant(std::string thing, Grants g) {
        std::optional<base::Result<void>> out;
        registry->set_grants(std::move(thing), std::move(g), [&](auto r) { out = r; });
        REQUIRE(out);
        return *out;
    }
    base::Result<Registry::ReconcileReport> reconcile() {
        std::optional<base::Result<Registry::ReconcileReport>> out;
        registry->reconcile([&](auto r) { out = r; });
        REQUIRE(out);
        return *out;
    }
    nlohmann::json role_acls(const std::string& thing) {
        return create_role_command("x", *device_acls(thing, {}))["acls"];
    }
};

}  // namespace

TEST_CASE("add: record pending, then role and client, then active") {
    Rig rig;
    auto e = rig.add("pump");
    CHECK(e.credentials == Credentials::active);
    CHECK(e.password.size() == 22);
    CHECK(rig.store.credentials("pump") == Credentials::active);
    REQUIRE(rig.dynsec.clients.count("pump"));
    CHECK(rig.dynsec.clients["pump"].clientid == "pump");
    CHECK(rig.dynsec.clients["pump"].password == e.password);
    CHECK(rig.dynsec.clients["pump"].roles == std::vector<std::string>{"gaffer-device-pump"});
    CHECK(rig.dynsec.roles["gaffer-device-pump"] == rig.role_acls("pump"));
    // Two dynsec writes, each of which makes mosquitto rewrite its file: no more.
    CHECK(rig.broker.names() == std::vector<std::string>{"createRole", "createClient"});
}

TEST_CASE("add rewrites a role left over with other ACLs") {
    Rig rig;
    rig.dynsec.roles["gaffer-device-pump"] = nlohmann::json::array({{{"acltype", "publishClientSend"},
                                                                     {"topic", "stale/#"}, {"priority", 0},
                                                                     {"allow", true}}});
    auto e = rig.add("pump");
    CHECK(e.credentials == Credentials::active);
    CHECK(rig.dynsec.roles["gaffer-device-pump"] == rig.role_acls("pump"));
    CHECK(rig.broker.names() == std::vector<std::string>{"createRole", "createClient", "modifyRole"});
}

TEST_CASE("add: refusals happen before the broker is asked") {
    Rig rig(2);
    rig.add("a");
    std::optional<base::Result<Registry::Enrollment>> out;
    rig.registry->add(Device{"a", nlohmann::json::object(), {}}, [&](auto r) { out = r; });
    CHECK(out->error().code == base::Errc::conflict);
    rig.registry->add(Device{"a/b", nlohmann::json::object(), {}}, [&](auto r) { out = r; });
    CHECK(out->error().code == base::Errc::invalid);
    rig.add("b");
    rig.registry->add(Device{"c", nlohmann::json::object(), {}}, [&](auto r) { out = r; });
    CHECK(out->error().code == base::Errc::busy);
    CHECK(rig.broker.batches.size() == 2);
}

TEST_CASE("add while the broker is down: pending, and reconcile creates it with the same password") {
    Rig rig;
    rig.broker.down = true;
    auto e = rig.add("pump");
    CHECK(e.credentials == Credentials::pending);
    CHECK(e.detail.find("broker down") != std::string::npos);
    CHECK(rig.store.credentials("pump") == Credentials::pending);
    CHECK_FALSE(rig.dynsec.clients.count("pump"));
    CHECK(rig.reconcile().error().code == base::Errc::timeout);
    rig.broker.down = false;
    auto report = rig.reconcile();
    REQUIRE(report);
    CHECK(report->created == 1);
    CHECK(report->problems.empty());
    CHECK(rig.store.credentials("pump") == Credentials::active);
    CHECK(rig.dynsec.clients["pump"].password == e.password);
    CHECK(rig.dynsec.roles["gaffer-device-pump"] == rig.role_acls("pump"));
    // Nothing left to do the next time.
    CHECK(rig.reconcile()->created == 0);
}

TEST_CASE("add replaces a stale client whose password is unknown") {
    Rig rig;
    rig.dynsec.roles["gaffer-device-pump"] = nlohmann::json::array();
    rig.dynsec.clients["pump"] = {"old", "pump", {"gaffer-device-pump"}};
    auto e = rig.add("pump");
    CHECK(e.credentials == Credentials::active);
    CHECK(rig.dynsec.clients["pump"].password == e.password);
    CHECK(rig.dynsec.roles["gaffer-device-pump"] == rig.role_acls("pump"));
}

TEST_CASE("a pending record whose password died with gafferd becomes missing; rotate fixes it") {
    Rig rig;
    rig.broker.down = true;
    rig.add("pump");
    rig.fresh_registry();
    rig.broker.down = false;
    auto report = rig.reconcile();
    REQUIRE(report);
    CHECK(report->missing == 1);
    REQUIRE(report->problems.size() == 1);
    CHECK(report->problems[0].find("pump: credentials missing") == 0);
    CHECK(rig.store.credentials("pump") == Credentials::missing);
    CHECK_FALSE(rig.dynsec.clients.count("pump"));
    auto pw = rig.rotate("pump");
    REQUIRE(pw);
    CHECK(rig.store.credentials("pump") == Credentials::active);
    CHECK(rig.dynsec.clients["pump"].password == *pw);
    CHECK(rig.dynsec.clients["pump"].clientid == "pump");
}

TEST_CASE("reconcile: lost clients are missing, lost roles are recreated, orphans deleted") {
    Rig rig;
    rig.add("kept");
    rig.add("lost");
    rig.dynsec.clients.erase("lost");
    rig.dynsec.roles.erase("gaffer-device-kept");
    rig.dynsec.roles["gaffer-device-ghost"] = nlohmann::json::array();
    rig.dynsec.clients["ghost"] = {"x", "ghost", {"gaffer-device-ghost"}};
    rig.dynsec.clients["operator"] = {"x", "", {"admin"}};
    auto report = rig.reconcile();
    REQUIRE(report);
    CHECK(report->missing == 1);
    CHECK(report->roles == 1);  // kept's, recreated; lost's role was intact
    CHECK(report->orphans == 2);
    CHECK(rig.store.credentials("lost") == Credentials::missing);
    CHECK(rig.store.credentials("kept") == Credentials::active);
    CHECK(rig.dynsec.roles.count("gaffer-device-kept"));
    CHECK_FALSE(rig.dynsec.clients.count("ghost"));
    CHECK_FALSE(rig.dynsec.roles.count("gaffer-device-ghost"));
    CHECK(rig.dynsec.clients.count("operator"));
    CHECK(rig.dynsec.clients.count("gaffer-admin"));
}

TEST_CASE("reconcile gives gafferd's user the core role once") {
    Rig rig;
    REQUIRE(rig.reconcile());
    CHECK(rig.dynsec.roles["gaffer-core"] == create_role_command("x", core_acls())["acls"]);
    CHECK(rig.dynsec.clients["gaffer-admin"].roles == std::vector<std::string>{"admin", "gaffer-core"});
    rig.broker.batches.clear();
    auto again = rig.reconcile();
    REQUIRE(again);
    CHECK(again->problems.empty());  // addClientRole twice would be "Internal error"
    for (const auto& name : rig.broker.names()) CHECK(name != "addClientRole");
}

TEST_CASE("reconcile reports a missing admin user and still does the rest") {
    Rig rig;
    rig.dynsec.clients.erase("gaffer-admin");
    auto report = rig.reconcile();
    REQUIRE(report);
    REQUIRE(report->problems.size() == 1);
    CHECK(report->problems[0].find("gaffer-admin") != std::string::npos);
}

TEST_CASE("reconcile works in bounded batches") {
    Rig rig(500);
    for (int i = 0; i < 120; ++i) rig.add("d" + std::to_string(i));
    for (auto& [name, acls] : rig.dynsec.roles)
        if (name.rfind("gaffer-device-", 0) == 0) acls = nlohmann::json::array();  // all stale
    rig.broker.batches.clear();
    auto report = rig.reconcile();
    REQUIRE(report);
    CHECK(report->roles == 120);
    for (const auto& b : rig.broker.batches) CHECK(b.size() <= 50);
    CHECK(rig.broker.batches.size() >= 4);
}

TEST_CASE("remove: revokes the client and role, then the record") {
    Rig rig;
    rig.add("pump");
    REQUIRE(rig.remove("pump"));
    CHECK_FALSE(rig.dynsec.clients.count("pump"));
    CHECK_FALSE(rig.dynsec.roles.count("gaffer-device-pump"));
    CHECK_FALSE(rig.store.records.count("pump"));
    auto names = rig.broker.names();
    CHECK(names[names.size() - 2] == "deleteClient");
    CHECK(rig.remove("pump").error().code == base::Errc::not_found);
}

TEST_CASE("remove with the broker down keeps the record and the credentials") {
    Rig rig;
    rig.add("pump");
    rig.broker.down = true;
    auto r = rig.remove("pump");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == base::Errc::timeout);
    CHECK(r.error().message.find("removing \"pump\"") == 0);
    CHECK(rig.store.records.count("pump"));
    CHECK(rig.dynsec.clients.count("pump"));
}

TEST_CASE("remove of a device the broker already lost still removes the record") {
    Rig rig;
    rig.add("pump");
    rig.dynsec.clients.clear();
    rig.dynsec.roles.clear();
    CHECK(rig.remove("pump"));
    CHECK_FALSE(rig.store.records.count("pump"));
}

TEST_CASE("rotate: a new password replaces the old") {
    Rig rig;
    auto e = rig.add("pump");
    auto pw = rig.rotate("pump");
    REQUIRE(pw);
    CHECK(*pw != e.password);
    CHECK(rig.dynsec.clients["pump"].password == *pw);
    CHECK(rig.rotate("nobody").error().code == base::Errc::not_found);
    rig.broker.down = true;
    CHECK_FALSE(rig.rotate("pump"));
    CHECK(rig.dynsec.clients["pump"].password == *pw);
    CHECK(rig.store.credentials("pump") == Credentials::active);
}

TEST_CASE("set_grants replaces the role's ACLs; bad filters are refused") {
    Rig rig;
    rig.add("a");
    Grants g{{"plant/cmd"}, {"plant/status/#"}};
    REQUIRE(rig.grant("a", g));
    CHECK(rig.dynsec.roles["gaffer-device-a"] == create_role_command("x", *device_acls("a", g))["acls"]);
    CHECK(rig.grant("a", {{"$SYS/x"}, {}}).error().code == base::Errc::invalid);
    CHECK(rig.dynsec.roles["gaffer-device-a"] == create_role_command("x", *device_acls("a", g))["acls"]);
    REQUIRE(rig.grant("a", {}));
    CHECK(rig.dynsec.roles["gaffer-device-a"] == rig.role_acls("a"));
}

TEST_CASE("grants given before add are used by add; grants during an outage by reconcile") {
    Rig rig;
    Grants g{{}, {"alerts/#"}};
    REQUIRE(rig.grant("later", g));
    CHECK(rig.broker.batches.empty());
    rig.add("later");
    CHECK(rig.dynsec.roles["gaffer-device-later"] == create_role_command("x", *device_acls("later", g))["acls"]);
    rig.broker.down = true;
    Grants more{{"x/y"}, {"alerts/#"}};
    CHECK_FALSE(rig.grant("later", more));
    rig.broker.down = false;
    REQUIRE(rig.reconcile());
    CHECK(rig.dynsec.roles["gaffer-device-later"] == create_role_command("x", *device_acls("later", more))["acls"]);
}

TEST_CASE("set_grants recreates a role the broker lost") {
    Rig rig;
    rig.add("a");
    rig.dynsec.roles.erase("gaffer-device-a");
    REQUIRE(rig.grant("a", {{"p/q"}, {}}));
    CHECK(rig.dynsec.roles.count("gaffer-device-a"));
}

TEST_CASE("one operation per device at a time") {
    Rig rig;
    rig.broker.hold = true;
    std::optional<base::Result<Registry::Enrollment>> added;
    rig.registry->add(Device{"pump", nlohmann::json::object(), {}}, [&](auto r) { added = r; });
    CHECK_FALSE(added);
    CHECK(rig.remove("pump").error().code == base::Errc::busy);
    CHECK(rig.rotate("pump").error().code == base::Errc::busy);
    rig.broker.hold = false;
    rig.broker.release();
    REQUIRE(added);
    CHECK((*added)->credentials == Credentials::active);
    CHECK(rig.remove("pump"));
}

TEST_CASE("concurrent reconciles coalesce and every caller hears once") {
    Rig rig;
    rig.broker.hold = true;
    int first = 0, second = 0, third = 0;
    rig.registry->reconcile([&](auto r) { CHECK(r); ++first; });
    rig.registry->reconcile([&](auto r) { CHECK(r); ++second; });
    rig.registry->reconcile([&](auto r) { CHECK(r); ++third; });
    CHECK(rig.broker.batches.size() == 1);
    rig.broker.hold = false;
    rig.broker.release();
    CHECK(first == 1);
    CHECK(second == 1);
    CHECK(third == 1);
}

TEST_CASE("callbacks are dropped once the registry is gone") {
    Rig rig;
    rig.broker.hold = true;
    bool called = false;
    rig.registry->add(Device{"pump", nlohmann::json::object(), {}}, [&](auto) { called = true; });
    rig.registry.reset();
    rig.broker.release();
    CHECK_FALSE(called);
}

TEST_CASE("presence: registered devices only, forgotten on reconcile") {
    Rig rig;
    rig.add("pump");
    CHECK_FALSE(rig.registry->presence("pump"));
    rig.wall = 5000;
    rig.registry->on_presence({"pump", true});
    rig.registry->on_presence({"stranger", true});
    REQUIRE(rig.registry->presence("pump"));
    CHECK(rig.registry->presence("pump")->connected);
    CHECK(rig.registry->presence("pump")->since_ms == 5000);
    CHECK_FALSE(rig.registry->presence("stranger"));
    rig.wall = 6000;
    rig.registry->on_presence(*parse_presence(kPresenceTopic, "1: Client pump closed its connection."));
    CHECK_FALSE(rig.registry->presence("pump")->connected);
    CHECK(rig.registry->presence("pump")->since_ms == 6000);
    REQUIRE(rig.reconcile());
    CHECK_FALSE(rig.registry->presence("pump"));
    rig.registry->on_presence({"pump", true});
    REQUIRE(rig.remove("pump"));
    CHECK_FALSE(rig.registry->presence("pump"));
}

TEST_CASE("credentials names") {
    for (auto c : {Credentials::pending, Credentials::active, Credentials::missing})
        CHECK(parse_credentials(credentials_name(c)) == c);
    CHECK_FALSE(parse_credentials("gone"));
}

TEST_CASE("reconcile writes only the roles whose ACLs differ, whatever order the broker lists them in") {
    Rig rig;
    rig.add("a");
    rig.add("b");
    // What mosquitto does: it lists a role's ACLs grouped by type, not as they were sent.
    auto& listed = rig.dynsec.roles["gaffer-device-a"];
    std::reverse(listed.begin(), listed.end());
    rig.broker.batches.clear();
    auto report = rig.reconcile();
    REQUIRE(report);
    CHECK(report->roles == 0);
    auto device_role_writes = [&] {
        int n = 0;
        for (const auto& batch : rig.broker.batches)
            for (const auto& c : batch)
                if ((c["command"] == "modifyRole" || c["command"] == "createRole") &&
                    c["rolename"].get<std::string>().rfind("gaffer-device-", 0) == 0)
                    ++n;
        return n;
    };
    CHECK(device_role_writes() == 0);

    rig.dynsec.roles["gaffer-device-b"].push_back({{"acltype", "publishClientSend"}, {"topic", "stale/#"},
                                                   {"priority", 0}, {"allow", true}});
    rig.dynsec.roles.erase("gaffer-device-a");
    rig.broker.batches.clear();
    report = rig.reconcile();
    REQUIRE(report);
    CHECK(report->roles == 2);
    CHECK(device_role_writes() == 2);
    CHECK(rig.dynsec.roles["gaffer-device-a"] == rig.role_acls("a"));
    CHECK(rig.dynsec.roles["gaffer-device-b"] == rig.role_acls("b"));
}
