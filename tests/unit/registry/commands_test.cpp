#include <doctest/doctest.h>

#include <algorithm>

#include "devices/registry/registry.hpp"

using namespace gaffer;
using registry::Acl;
using nlohmann::json;

namespace {
bool has(const std::vector<Acl>& acls, const Acl& acl) {
    return std::find(acls.begin(), acls.end(), acl) != acls.end();
}
}  // namespace

TEST_CASE("role_name") { CHECK(registry::role_name("pump-7") == "gaffer-device-pump-7"); }

TEST_CASE("device ACLs: own topics, shadow topics, grants, and receive denied elsewhere") {
    registry::Grants grants{{"plant/line1/cmd", "alerts/+"}, {"plant/line1/status/#", "$aws/things/b/shadow/update/delta"}};
    auto acls = registry::device_acls("a", grants);
    REQUIRE(acls);
    std::vector<Acl> expected = {
        {"publishClientSend", "things/a/#", true, 0},
        {"subscribePattern", "things/a/#", true, 0},
        {"publishClientReceive", "things/a/#", true, 0},
        {"publishClientSend", "$aws/things/a/shadow/#", true, 0},
        {"subscribePattern", "$aws/things/a/shadow/#", true, 0},
        {"publishClientReceive", "$aws/things/a/shadow/#", true, 0},
        {"publishClientSend", "plant/line1/cmd", true, 0},
        {"publishClientSend", "alerts/+", true, 0},
        {"subscribePattern", "plant/line1/status/#", true, 0},
        {"publishClientReceive", "plant/line1/status/#", true, 0},
        {"subscribePattern", "$aws/things/b/shadow/update/delta", true, 0},
        {"publishClientReceive", "$aws/things/b/shadow/update/delta", true, 0},
        {"publishClientReceive", "#", false, -1},
        {"publishClientReceive", "$aws/#", false, -1},
    };
    CHECK(*acls == expected);
}

TEST_CASE("device ACLs merge duplicates") {
    auto acls = registry::device_acls("a", {{"x/y", "x/y", "things/a/#"}, {}});
    REQUIRE(acls);
    CHECK(std::count(acls->begin(), acls->end(), Acl{"publishClientSend", "x/y", true, 0}) == 1);
    CHECK(std::count(acls->begin(), acls->end(), Acl{"publishClientSend", "things/a/#", true, 0}) == 1);
}

TEST_CASE("device ACLs refuse bad names and filters") {
    auto code = [](std::string_view thing, registry::Grants g) {
        auto r = registry::device_acls(thing, g);
        REQUIRE_FALSE(r);
        return r.error().code;
    };
    CHECK(code("a/b", {}) == base::Errc::invalid);
    CHECK(code("a", {{""}, {}}) == base::Errc::invalid);
    CHECK(code("a", {{"a/#/b"}, {}}) == base::Errc::invalid);
    CHECK(code("a", {{"a#"}, {}}) == base::Errc::invalid);
    CHECK(code("a", {{}, {"a/b+"}}) == base::Errc::invalid);
    CHECK(code("a", {{std::string("a\0b", 3)}, {}}) == base::Errc::invalid);
    // Forging broker log lines or shadow answers.
    CHECK(code("a", {{"$SYS/broker/log/N"}, {}}) == base::Errc::invalid);
    CHECK(code("a", {{"$aws/things/b/shadow/update/accepted"}, {}}) == base::Errc::invalid);
    CHECK(code("a", {{}, {"$SYS/#"}}) == base::Errc::invalid);
    CHECK(code("a", {{}, {"$CONTROL/dynamic-security/v1/response"}}) == base::Errc::invalid);
    auto r = registry::device_acls("a", {{"a/#/b"}, {}});
    CHECK(r.error().message.find("\"a/#/b\"") != std::string::npos);
    CHECK(registry::device_acls("a", {{"#", "+/x"}, {"+", "$aws/things/+/shadow/#"}}));
}

TEST_CASE("core ACLs let gafferd publish and subscribe everything, $ topics included") {
    auto acls = registry::core_acls();
    for (const char* topic : {"#", "$aws/#", "$CONTROL/dynamic-security/#"}) {
        CHECK(has(acls, {"publishClientSend", topic, true, 0}));
        CHECK(has(acls, {"publishClientReceive", topic, true, 0}));
        CHECK(has(acls, {"subscribePattern", topic, true, 0}));
    }
    CHECK(has(acls, {"subscribePattern", "$SYS/#", true, 0}));
    CHECK(has(acls, {"publishClientReceive", "$SYS/#", true, 0}));
    CHECK_FALSE(has(acls, {"publishClientSend", "$SYS/#", true, 0}));
    for (const auto& acl : acls) CHECK(acl.allow);
}

TEST_CASE("client command builders") {
    CHECK(registry::create_client_command("pump", "pw", "gaffer-device-pump") ==
          json::parse(R"({"command":"createClient","username":"pump","clientid":"pump",
                         "password":"pw","roles":[{"rolename":"gaffer-device-pump"}]})"));
    CHECK(registry::delete_client_command("pump") ==
          json::parse(R"({"command":"deleteClient","username":"pump"})"));
    CHECK(registry::set_password_command("pump", "new") ==
          json::parse(R"({"command":"setClientPassword","username":"pump","password":"new"})"));
    CHECK(registry::get_client_command("gaffer-admin") ==
          json::parse(R"({"command":"getClient","username":"gaffer-admin"})"));
    CHECK(registry::list_clients_command() == json::parse(R"({"command":"listClients","verbose":true})"));
    CHECK(registry::add_client_role_command("gaffer-admin", "gaffer-core") ==
          json::parse(R"({"command":"addClientRole","username":"gaffer-admin","rolename":"gaffer-core"})"));
}

TEST_CASE("role command builders") {
    std::vector<Acl> acls = {{"publishClientSend", "things/a/#", true, 0},
                             {"publishClientReceive", "#", false, -1}};
    auto expected_acls = json::parse(R"([
        {"acltype":"publishClientSend","topic":"things/a/#","priority":0,"allow":true},
        {"acltype":"publishClientReceive","topic":"#","priority":-1,"allow":false}])");
    CHECK(registry::create_role_command("r", acls) ==
          json{{"command", "createRole"}, {"rolename", "r"}, {"acls", expected_acls}});
    CHECK(registry::modify_role_command("r", acls) ==
          json{{"command", "modifyRole"}, {"rolename", "r"}, {"acls", expected_acls}});
    CHECK(registry::delete_role_command("r") == json::parse(R"({"command":"deleteRole","rolename":"r"})"));
    CHECK(registry::list_roles_command() == json::parse(R"({"command":"listRoles","verbose":true})"));
    CHECK(json::parse(registry::commands_payload({registry::list_roles_command()})) ==
          json::parse(R"({"commands":[{"command":"listRoles","verbose":true}]})"));
}

// Captured from mosquitto 2.0.11 with its dynamic-security plugin.
constexpr const char* kCaptured =
    R"({"responses":[{"command":"createRole","correlationData":"c1"},)"
    R"({"command":"createClient","correlationData":"c2"},)"
    R"({"command":"createClient","error":"Client already exists","correlationData":"c3"},)"
    R"({"command":"bogus","error":"Unknown command"},)"
    R"({"command":"getClient","data":{"client":{"username":"a","clientid":"a","roles":[{"rolename":"r1"}],"groups":[]}}},)"
    R"({"command":"deleteClient","error":"Client not found"},)"
    R"({"command":"createClient","error":"Role not found"},)"
    R"({"command":"listRoles","data":{"totalCount":2,"roles":["admin","r1"]}},)"
    R"({"command":"createRole","error":"Role already exists"},)"
    R"({"command":"addClientRole","error":"Internal error"}]})";

TEST_CASE("parse_responses: success, data, and an error per command") {
    auto r = registry::parse_responses(kCaptured);
    REQUIRE(r);
    REQUIRE(r->size() == 10);
    const auto& v = *r;
    CHECK(v[0].ok());
    CHECK(v[0].command == "createRole");
    CHECK(v[0].correlation == "c1");
    CHECK(v[0].data.is_null());
    CHECK_FALSE(v[2].ok());
    CHECK(*v[2].error == "Client already exists");
    CHECK(registry::result_error(v[2]).code == base::Errc::conflict);
    CHECK(registry::result_error(v[2]).message == "broker refused createClient: Client already exists");
    CHECK(v[3].correlation == std::nullopt);
    CHECK(registry::result_error(v[3]).code == base::Errc::invalid);
    CHECK(v[4].ok());
    CHECK(v[4].data["client"]["clientid"] == "a");
    CHECK(registry::result_error(v[5]).code == base::Errc::not_found);
    CHECK(registry::result_error(v[6]).code == base::Errc::not_found);
    CHECK(v[7].data["roles"] == json::array({"admin", "r1"}));
    CHECK(registry::result_error(v[8]).code == base::Errc::conflict);
    CHECK(registry::result_error(v[9]).code == base::Errc::invalid);
}

TEST_CASE("parse_responses refuses other shapes") {
    for (const char* bad : {"", "nope", "[]", R"({"responses":{}})", R"({"responses":[1]})",
                            R"({"responses":[{"error":"x"}]})", R"({"commands":[]})"}) {
        auto r = registry::parse_responses(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == base::Errc::invalid);
    }
    auto empty = registry::parse_responses(R"({"responses":[]})");
    REQUIRE(empty);
    CHECK(empty->empty());
}
