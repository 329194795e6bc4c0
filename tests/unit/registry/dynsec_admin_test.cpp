#include <doctest/doctest.h>

#include "fakes.hpp"

using namespace gaffer;
using namespace gaffer::registry;
using namespace gaffer::registry::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Rig {
    ManualClock clock;
    FakeAlarm alarm;
    std::vector<std::pair<std::string, std::string>> sent;
    bool publish_fails = false;
    DynsecAdmin admin{[this](std::string_view topic, std::string payload) -> base::Result<void> {
                          if (publish_fails) return base::fail(base::Errc::unavailable, "not connected");
                          sent.emplace_back(std::string(topic), std::move(payload));
                          return {};
                      },
                      alarm, clock, DynsecAdmin::Options{5000ms, 2, 3}};

    std::vector<std::string> correlations(std::size_t i) const {
        std::vector<std::string> out;
        const auto doc = json::parse(sent.at(i).second);
        for (const auto& c : doc["commands"])
            out.push_back(c["correlationData"].get<std::string>());
        return out;
    }
    // The broker's answer to batch i: every command succeeded.
    std::string answer(std::size_t i) const {
        json responses = json::array();
        const auto doc = json::parse(sent.at(i).second);
        for (const auto& c : doc["commands"])
            responses.push_back({{"command", c["command"]}, {"correlationData", c["correlationData"]}});
        return json{{"responses", responses}}.dump();
    }
};

struct Outcome {
    bool called = false;
    base::Result<std::vector<CommandResult>> result = std::vector<CommandResult>{};
};

BrokerAdmin::Done capture(Outcome& o) {
    return [&o](base::Result<std::vector<CommandResult>> r) {
        CHECK_FALSE(o.called);
        o.called = true;
        o.result = std::move(r);
    };
}

}  // namespace

TEST_CASE("a batch is published on the control topic with one correlation per command") {
    Rig rig;
    Outcome o;
    rig.admin.execute({list_roles_command(), get_client_command("x")}, capture(o));
    REQUIRE(rig.sent.size() == 1);
    CHECK(rig.sent[0].first == "$CONTROL/dynamic-security/v1");
    auto commands = json::parse(rig.sent[0].second)["commands"];
    REQUIRE(commands.size() == 2);
    CHECK(commands[0]["command"] == "listRoles");
    CHECK(commands[1]["username"] == "x");
    auto ids = rig.correlations(0);
    CHECK(ids[0] != ids[1]);
    CHECK_FALSE(o.called);
    CHECK(rig.alarm.armed);
    CHECK(rig.alarm.after == base::Duration(5000ms));
    CHECK(rig.admin.in_flight() == 1);
}

TEST_CASE("answers are matched by correlation data, whatever their order") {
    Rig rig;
    Outcome first, second;
    rig.admin.execute({list_roles_command()}, capture(first));
    rig.admin.execute({get_client_command("x"), delete_client_command("y")}, capture(second));
    auto ids = rig.correlations(1);
    json reply = {{"responses",
                   {{{"command", "deleteClient"}, {"error", "Client not found"}, {"correlationData", ids[1]}},
                    {{"command", "getClient"}, {"data", {{"client", {{"username", "x"}}}}}, {"correlationData", ids[0]}}}}};
    CHECK(rig.admin.feed(kResponseTopic, reply.dump()));
    REQUIRE(second.called);
    REQUIRE(second.result);
    REQUIRE(second.result->size() == 2);
    CHECK((*second.result)[0].command == "getClient");
    CHECK((*second.result)[0].data["client"]["username"] == "x");
    CHECK((*second.result)[1].error == "Client not found");
    CHECK_FALSE(first.called);
    CHECK(rig.admin.feed(kResponseTopic, rig.answer(0)));
    CHECK(first.called);
    CHECK(rig.admin.in_flight() == 0);
    CHECK_FALSE(rig.alarm.armed);
}

TEST_CASE("answers that are not ours are ignored") {
    Rig rig;
    Outcome o;
    rig.admin.execute({list_roles_command()}, capture(o));
    auto mine = rig.correlations(0)[0];
    // Another admin (mosquitto_ctrl) and an earlier gafferd share the response topic.
    CHECK_FALSE(rig.admin.feed(kResponseTopic, R"({"responses":[{"command":"listRoles"}]})"));
    CHECK_FALSE(rig.admin.feed(kResponseTopic, R"({"responses":[{"command":"listRoles","correlationData":"someone"}]})"));
    std::string other_process = "XXXXXXXXXXXX" + mine.substr(mine.find(':'));
    CHECK_FALSE(rig.admin.feed(kResponseTopic, json{{"responses", {{{"command", "listRoles"}, {"correlationData", other_process}}}}}.dump()));
    CHECK_FALSE(rig.admin.feed(kResponseTopic, "not json"));
    CHECK_FALSE(rig.admin.feed("other/topic", rig.answer(0)));
    CHECK_FALSE(o.called);
    CHECK(rig.admin.feed(kResponseTopic, rig.answer(0)));
    CHECK(o.called);
    // A duplicate (QoS 1 redelivery) after completion changes nothing.
    CHECK_FALSE(rig.admin.feed(kResponseTopic, rig.answer(0)));
}

TEST_CASE("a batch times out when the broker does not answer") {
    Rig rig;
    Outcome early, late;
    rig.admin.execute({list_roles_command()}, capture(early));
    rig.clock.advance(2000ms);
    rig.admin.execute({list_roles_command()}, capture(late));
    CHECK(rig.alarm.after == base::Duration(3000ms));  // the first deadline, from now
    rig.clock.advance(3000ms);
    rig.alarm.fire();
    REQUIRE(early.called);
    CHECK(early.result.error().code == base::Errc::timeout);
    CHECK_FALSE(late.called);
    REQUIRE(rig.alarm.armed);
    CHECK(rig.alarm.after == base::Duration(2000ms));
    rig.clock.advance(2000ms);
    rig.alarm.fire();
    REQUIRE(late.called);
    CHECK(late.result.error().code == base::Errc::timeout);
    CHECK_FALSE(rig.alarm.armed);
    // The answer arriving afterwards is dropped.
    CHECK_FALSE(rig.admin.feed(kResponseTopic, rig.answer(0)));
}

TEST_CASE("in-flight batches are bounded, batches are bounded, publish failures fail at once") {
    Rig rig;
    Outcome a, b, c, big, empty, unsent;
    rig.admin.execute({list_roles_command()}, capture(a));
    rig.admin.execute({list_roles_command()}, capture(b));
    rig.admin.execute({list_roles_command()}, capture(c));
    REQUIRE(c.called);
    CHECK(c.result.error().code == base::Errc::busy);
    CHECK(rig.sent.size() == 2);
    rig.admin.feed(kResponseTopic, rig.answer(0));
    rig.admin.execute(std::vector<Command>(4, list_roles_command()), capture(big));
    REQUIRE(big.called);
    CHECK(big.result.error().code == base::Errc::invalid);
    rig.admin.execute({}, capture(empty));
    REQUIRE(empty.called);
    CHECK(empty.result->empty());
    rig.publish_fails = true;
    rig.admin.execute({list_roles_command()}, capture(unsent));
    REQUIRE(unsent.called);
    CHECK(unsent.result.error().code == base::Errc::unavailable);
    CHECK(rig.admin.in_flight() == 1);
}

TEST_CASE("fail_all fails everything outstanding with the reason") {
    Rig rig;
    Outcome a, b;
    rig.admin.execute({list_roles_command()}, capture(a));
    rig.admin.execute({list_roles_command()}, capture(b));
    rig.admin.fail_all({base::Errc::unavailable, "connection lost"});
    REQUIRE(a.called);
    REQUIRE(b.called);
    CHECK(a.result.error().message == "connection lost");
    CHECK(b.result.error().code == base::Errc::unavailable);
    CHECK_FALSE(rig.alarm.armed);
    CHECK(rig.admin.in_flight() == 0);
}

TEST_CASE("a callback may start the next batch") {
    Rig rig;
    Outcome second;
    bool first_done = false;
    rig.admin.execute({list_roles_command()}, [&](base::Result<std::vector<CommandResult>> r) {
        CHECK(r);
        first_done = true;
        rig.admin.execute({list_clients_command()}, capture(second));
    });
    rig.admin.feed(kResponseTopic, rig.answer(0));
    CHECK(first_done);
    REQUIRE(rig.sent.size() == 2);
    CHECK(rig.admin.in_flight() == 1);
    CHECK(rig.alarm.armed);
    rig.admin.feed(kResponseTopic, rig.answer(1));
    CHECK(second.called);
}
