#include <doctest/doctest.h>

#include "tests/unit/hub/fakes.hpp"

using namespace gaffer;
using namespace gaffer::hub;
using namespace gaffer::hub::testing;
using nlohmann::json;

namespace {

// A started hub with a connected link and one registered thing.
struct Started : Rig {
    explicit Started(Options options = {}) : Rig(std::move(options)) {
        storage.add_thing("t1");
        REQUIRE(hub.start());
        link.connect();
        answer_dynsec();
        run();
        link.published.clear();
    }
    json last_on(std::string_view topic) {
        auto all = link.on(topic);
        REQUIRE_FALSE(all.empty());
        return json::parse(all.back().payload);
    }
};

}  // namespace

namespace {
// What the ingest plugin is told: set by every verdict.
struct Verdicts {
    std::vector<std::pair<bool, std::string>> given;
    Hub::Verdict next() {
        return [this](bool accepted, std::string reason) { given.emplace_back(accepted, std::move(reason)); };
    }
};
}  // namespace

TEST_CASE("start subscribes to shadow requests, dynsec answers, presence and every device message") {
    Rig rig;
    REQUIRE(rig.hub.start());
    CHECK(rig.link.started);
    CHECK(rig.link.subscriptions == std::set<std::string>{"$aws/things/+/shadow/+", "$aws/things/+/shadow/name/+/+",
                                                          std::string(registry::kResponseTopic),
                                                          std::string(registry::kPresenceTopic), "#"});
    auto to_task = rig.hub.add_route("device:a", "sensors/+/t", "task:collector");
    REQUIRE(to_task);
    REQUIRE(rig.hub.remove_route(to_task->id));
    CHECK(rig.link.subscriptions.size() == 5);
    CHECK(rig.storage.routes.empty());
}

TEST_CASE("routes: bad ones are refused by field, duplicates conflict, stored ones come back on start") {
    Rig rig;
    REQUIRE(rig.hub.start());
    auto bad = rig.hub.add_route("device:a", "a/#/b", "task:t");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == base::Errc::invalid);
    CHECK(bad.error().message.rfind("filter: ", 0) == 0);
    REQUIRE(rig.hub.add_route("task:t", "things/a/cmd", "device:a"));
    auto again = rig.hub.add_route("task:t", "things/a/cmd", "device:a");
    REQUIRE_FALSE(again);
    CHECK(again.error().code == base::Errc::conflict);
    CHECK(rig.hub.remove_route(99).error().code == base::Errc::not_found);

    Rig restarted;
    restarted.storage.routes = rig.storage.routes;
    restarted.storage.next_route = rig.storage.next_route;
    REQUIRE(restarted.hub.start());
    CHECK(restarted.hub.routes().size() == 1);
}

TEST_CASE("a shadow update over MQTT is committed in a batch before its answers are published") {
    Started s;
    s.link.deliver("$aws/things/t1/shadow/update", R"({"state":{"desired":{"temp":21}},"clientToken":"c1"})");
    CHECK(s.link.on("$aws/things/t1/shadow/update/accepted").empty());  // not before the batch
    const int before = s.storage.batches;
    s.run();
    CHECK(s.storage.batches == before + 1);
    auto accepted = s.last_on("$aws/things/t1/shadow/update/accepted");
    CHECK(accepted["version"] == 1);
    CHECK(accepted["clientToken"] == "c1");
    CHECK(s.last_on("$aws/things/t1/shadow/update/delta")["state"]["temp"] == 21);
    CHECK_FALSE(s.link.on("$aws/things/t1/shadow/update/documents").empty());
    auto metrics = s.hub.metrics();
    CHECK(metrics["gaffer_devices_shadow_requests_total{result=accepted}"] == 1);
}

TEST_CASE("a burst of shadow requests shares one batch") {
    Started s;
    for (int i = 0; i < 20; ++i)
        s.link.deliver("$aws/things/t1/shadow/update", R"({"state":{"reported":{"n":)" + std::to_string(i) + "}}}");
    const int before = s.storage.batches;
    s.run();
    CHECK(s.storage.batches == before + 1);
    CHECK(s.link.on("$aws/things/t1/shadow/update/accepted").size() == 20);
    CHECK(s.last_on("$aws/things/t1/shadow/update/accepted")["version"] == 20);
}

namespace {
std::string numbered_update(int i) {
    return R"({"state":{"reported":{"n":)" + std::to_string(i) + R"(}},"clientToken":"c)" + std::to_string(i) + R"("})";
}

Options answers_in_flight(std::size_t n) {
    Options o;
    o.max_answers_in_flight = n;
    return o;
}

// Acknowledges what the broker has and runs the loop until `n` updates were accepted (or no progress).
std::vector<mqtt::Message> accepted_after_acks(Started& s, std::size_t n) {
    for (int round = 0; round < 20 && s.link.on("$aws/things/t1/shadow/update/accepted").size() < n; ++round) {
        s.link.ack_all();
        s.run();
    }
    return s.link.on("$aws/things/t1/shadow/update/accepted");
}
}  // namespace

TEST_CASE("shadow requests wait while earlier answers are unacknowledged; none is lost, order is kept") {
    Started s(answers_in_flight(6));  // two requests' answers (at most three each)
    s.link.hold_acks = true;
    s.link.capacity = 6;  // the link itself would refuse a seventh
    for (int i = 0; i < 5; ++i) s.link.deliver("$aws/things/t1/shadow/update", numbered_update(i));
    s.run();
    CHECK(s.link.on("$aws/things/t1/shadow/update/accepted").size() == 2);
    CHECK(s.storage.shadows.begin()->second.version == 2);  // the others are not applied yet
    const auto accepted = accepted_after_acks(s, 5);
    REQUIRE(accepted.size() == 5);
    for (int i = 0; i < 5; ++i) CHECK(json::parse(accepted[i].payload)["clientToken"] == "c" + std::to_string(i));
    CHECK(s.hub.metrics()["gaffer_mqtt_publications_dropped_total"] == 0);
}

TEST_CASE("a limit below one request's answers still lets requests through one at a time") {
    Started s(answers_in_flight(1));
    s.link.hold_acks = true;
    for (int i = 0; i < 3; ++i) s.link.deliver("$aws/things/t1/shadow/update", numbered_update(i));
    s.run();
    CHECK(s.link.on("$aws/things/t1/shadow/update/accepted").size() == 1);
    CHECK(accepted_after_acks(s, 3).size() == 3);
}

TEST_CASE("messages for tasks and the ingest plugin's verdicts never wait behind shadow requests") {
    Started s(answers_in_flight(3));
    REQUIRE(s.hub.add_route("device:t1", "things/t1/telemetry", "task:collector"));
    s.link.hold_acks = true;
    for (int i = 0; i < 3; ++i) s.link.deliver("$aws/things/t1/shadow/update", numbered_update(i));
    s.run();  // one request answered, two wait
    Verdicts v;
    s.hub.ingest(mqtt::Message{"things/t1/telemetry", R"({"n":1})", 1, false}, v.next());
    s.run();
    REQUIRE(v.given.size() == 1);  // the broker would be blocked until then
    CHECK(v.given[0].first);
    CHECK(s.tasks.invocations.size() == 1);
    CHECK(s.link.on("$aws/things/t1/shadow/update/accepted").size() == 1);
}

TEST_CASE("shadow requests wait while the broker is away and are answered after the reconnect") {
    Started s(answers_in_flight(3));
    s.link.hold_acks = true;
    for (int i = 0; i < 3; ++i) s.link.deliver("$aws/things/t1/shadow/update", numbered_update(i));
    s.run();
    s.link.disconnect();
    s.link.ack_all(base::fail(base::Errc::unavailable, "link down"));  // the first request's answers
    s.run();
    CHECK(s.storage.shadows.begin()->second.version == 1);  // not applied while nobody hears the answer
    s.link.connect();
    s.answer_dynsec();
    s.run();
    CHECK(accepted_after_acks(s, 3).size() == 3);
    CHECK(s.storage.shadows.begin()->second.version == 3);
}

TEST_CASE("shadow requests beyond the waiting limit are refused and counted") {
    Options o = answers_in_flight(3);
    o.max_waiting_shadow_requests = 2;
    Started s(o);
    s.link.hold_acks = true;
    for (int i = 0; i < 5; ++i) s.link.deliver("$aws/things/t1/shadow/update", numbered_update(i));
    // Nothing ran yet: two wait, three are refused.
    CHECK(s.hub.metrics()["gaffer_mqtt_messages_refused_total{reason=busy}"] == 3);
    CHECK(accepted_after_acks(s, 2).size() == 2);
}

TEST_CASE("stopping refuses the ingest plugin's waiting messages at once and counts waiting shadow requests") {
    Started s(answers_in_flight(3));
    s.link.hold_acks = true;
    for (int i = 0; i < 3; ++i) s.link.deliver("$aws/things/t1/shadow/update", numbered_update(i));
    s.run();
    Verdicts v;
    s.hub.ingest(mqtt::Message{"things/t1/a", "{}", 1, false}, v.next());
    s.hub.stop([] {});
    REQUIRE(v.given.size() == 1);
    CHECK_FALSE(v.given[0].first);
    CHECK(s.hub.metrics()["gaffer_mqtt_messages_refused_total{reason=unavailable}"] == 2);
}

TEST_CASE("a batch that does not commit answers 500 with the clientToken and publishes nothing else") {
    Started s;
    s.storage.fail_commit = true;
    s.link.deliver("$aws/things/t1/shadow/name/cfg/update", R"({"state":{"desired":{"a":1}},"clientToken":"tok"})");
    s.run();
    CHECK(s.link.on("$aws/things/t1/shadow/name/cfg/update/accepted").empty());
    CHECK(s.link.on("$aws/things/t1/shadow/name/cfg/update/delta").empty());
    auto rejected = s.last_on("$aws/things/t1/shadow/name/cfg/update/rejected");
    CHECK(rejected["code"] == 500);
    CHECK(rejected["message"] == "Internal service failure");
    CHECK(rejected["clientToken"] == "tok");
    CHECK(s.storage.shadows.empty());
}

TEST_CASE("a device message on a routed topic becomes an asynchronous invocation with the topic and payload") {
    Started s;
    REQUIRE(s.hub.add_route("device:t1", "things/t1/telemetry", "task:collector"));
    s.link.deliver("things/t1/telemetry", R"({"temperature": 19.5})");
    s.link.deliver("things/t1/other", "x");                  // no route: not an invocation
    s.link.deliver("things/t1/telemetry", std::string("\x00\xff", 2), 0);  // not JSON: base64
    s.run();
    REQUIRE(s.tasks.invocations.size() == 2);
    CHECK(s.tasks.invocations[0].first == "collector");
    auto event = json::parse(s.tasks.invocations[0].second);
    CHECK(event["topic"] == "things/t1/telemetry");
    CHECK(event["payload"]["temperature"] == 19.5);
    CHECK(event["payload_encoding"] == "json");
    CHECK(event["qos"] == 1);
    CHECK(event["source"] == "device");
    auto binary = json::parse(s.tasks.invocations[1].second);
    CHECK(binary["payload"] == "AP8=");
    CHECK(binary["payload_encoding"] == "base64");
    auto metrics = s.hub.metrics();
    CHECK(metrics["gaffer_mqtt_messages_routed_total"] == 2);
    CHECK(metrics["gaffer_mqtt_messages_unrouted_total"] == 1);
}

TEST_CASE("refused device messages are counted and logged, never invoked") {
    Started s;
    REQUIRE(s.hub.add_route("device:t1", "big/#", "task:collector"));
    s.link.deliver("big/one", std::string(Options{}.max_message_bytes + 1, 'x'));
    s.tasks.refuse = true;
    s.link.deliver("big/two", "{}");
    s.run();
    CHECK(s.tasks.invocations.empty());
    auto metrics = s.hub.metrics();
    CHECK(metrics["gaffer_mqtt_messages_refused_total{reason=too_large}"] == 1);
    CHECK(metrics["gaffer_mqtt_messages_refused_total{reason=busy}"] == 1);
    CHECK(s.logged.size() >= 2);
}


TEST_CASE("an ingested message is answered only once its invocation has committed, and its copy is skipped") {
    Started s;
    std::vector<std::size_t> announced;
    s.hub.on_routes_changed([&](const routing::RouteTable& t) { announced.push_back(t.size()); });
    REQUIRE(s.hub.add_route("device:t1", "things/t1/telemetry", "task:collector"));
    CHECK(announced == std::vector<std::size_t>{0, 1});  // at once, then on the change

    Verdicts v;
    const int before = s.storage.batches;
    s.hub.ingest(mqtt::Message{"things/t1/telemetry", R"({"n":1})", 1, false}, v.next());
    s.hub.ingest(mqtt::Message{"things/t1/unrouted", "x", 1, false}, v.next());
    CHECK(v.given.empty());  // nothing before the batch
    s.run();
    CHECK(s.storage.batches == before + 1);
    REQUIRE(v.given.size() == 2);
    CHECK(v.given[0] == std::pair<bool, std::string>{true, ""});
    CHECK(v.given[1].first);  // no route took it: nothing to retry
    REQUIRE(s.tasks.invocations.size() == 1);

    s.link.deliver("things/t1/telemetry", R"({"n":1})", 1, true);  // the marked copy
    s.run();
    CHECK(s.tasks.invocations.size() == 1);
    auto metrics = s.hub.metrics();
    CHECK(metrics["gaffer_mqtt_messages_ingested_total{result=accepted}"] == 2);
    CHECK(metrics["gaffer_mqtt_messages_ingested_copies_total"] == 1);

    REQUIRE(s.hub.remove_route((*s.hub.routes().all().begin()).id));
    CHECK(announced.back() == 0);
}

TEST_CASE("an ingested message is refused, for the device to send again, when the queue is full or the store fails") {
    Started s;
    REQUIRE(s.hub.add_route("device:t1", "things/t1/#", "task:collector"));
    Verdicts v;
    s.tasks.refuse = true;
    s.hub.ingest(mqtt::Message{"things/t1/a", "{}", 1, false}, v.next());
    s.run();
    REQUIRE(v.given.size() == 1);
    CHECK_FALSE(v.given[0].first);
    CHECK(v.given[0].second == "queue full");

    s.tasks.refuse = false;
    s.storage.fail_commit = true;
    s.hub.ingest(mqtt::Message{"things/t1/b", "{}", 1, false}, v.next());
    s.run();
    REQUIRE(v.given.size() == 2);
    CHECK_FALSE(v.given[1].first);
    CHECK(v.given[1].second.find("disk full") != std::string::npos);

    s.storage.fail_commit = false;  // too large is final: accepted (and counted refused)
    s.hub.ingest(mqtt::Message{"things/t1/c", std::string(Options{}.max_message_bytes + 1, 'x'), 1, false}, v.next());
    s.run();
    REQUIRE(v.given.size() == 3);
    CHECK(v.given[2].first);
    CHECK(s.hub.metrics()["gaffer_mqtt_messages_ingested_total{result=refused}"] == 2);

    s.hub.stop([] {});
    s.hub.ingest(mqtt::Message{"things/t1/d", "{}", 1, false}, v.next());
    REQUIRE(v.given.size() == 4);
    CHECK(v.given[3] == std::pair<bool, std::string>{false, "gafferd is stopping"});
}

TEST_CASE("a task may publish only where a route from it leads") {
    Started s;
    auto denied = s.hub.publish_from_task("controller", "things/t1/cmd", "{}", 1);
    CHECK(denied.status == 403);
    CHECK(json::parse(denied.body)["message"] == "no route lets task:controller publish on things/t1/cmd");
    CHECK(s.hub.publish_from_task("controller", "things/+/cmd", "{}", 1).status == 400);
    CHECK(s.hub.publish_from_task("controller", "things/t1/cmd", "{}", 2).status == 400);
}

TEST_CASE("a route change reports itself applied only once the broker answered the grant change") {
    Started s;
    int applied = 0;
    auto route = s.hub.add_route("task:controller", "things/t1/cmd", "device:t1", [&] { ++applied; });
    REQUIRE(route);
    s.run();
    CHECK(applied == 0);  // the role change for t1 is out, unanswered
    REQUIRE_FALSE(s.link.on(registry::kControlTopic).empty());
    s.answer_dynsec();
    s.run();
    CHECK(applied == 1);

    REQUIRE(s.hub.remove_route(route->id, [&] { ++applied; }));
    s.run();
    CHECK(applied == 1);
    s.answer_dynsec();
    s.run();
    CHECK(applied == 2);

    // A route that concerns no device (task to task): applied on the next loop turn, not
    // inside the call.
    REQUIRE(s.hub.add_route("task:a", "jobs/#", "task:b", [&] { ++applied; }));
    CHECK(applied == 2);
    s.run();
    CHECK(applied == 3);
    // A refused change never reports.
    CHECK_FALSE(s.hub.add_route("task:a", "jobs/#", "task:b", [&] { ++applied; }));
    CHECK_FALSE(s.hub.remove_route(999, [&] { ++applied; }));
    s.run();
    CHECK(applied == 3);
}

TEST_CASE("a task's QoS 1 publication goes through the outbox and leaves it when the broker acknowledges") {
    Started s;
    REQUIRE(s.hub.add_route("task:controller", "things/t1/cmd", "device:t1"));
    s.link.published.clear();
    s.link.hold_acks = true;
    auto answer = s.hub.publish_from_task("controller", "things/t1/cmd", R"({"heat":"on"})", 1);
    CHECK(answer.status == 202);
    CHECK(json::parse(answer.body)["routes"] == 1);
    REQUIRE(s.link.on("things/t1/cmd").size() == 1);
    CHECK(s.storage.outbox.size() == 1);
    s.link.ack_all();
    CHECK(s.storage.outbox.empty());
}

TEST_CASE("publications made while the broker is away wait in the outbox and go out on reconnect, in order") {
    Started s;
    REQUIRE(s.hub.add_route("task:controller", "things/t1/#", "device:t1"));
    s.link.disconnect();
    s.link.published.clear();
    for (int i = 0; i < 3; ++i)
        CHECK(s.hub.publish_from_task("controller", "things/t1/cmd", std::to_string(i), 1).status == 202);
    CHECK(s.link.published.empty());
    CHECK(s.storage.outbox.size() == 3);
    s.link.connect();
    s.answer_dynsec();
    auto sent = s.link.on("things/t1/cmd");
    REQUIRE(sent.size() == 3);
    CHECK(sent[0].payload == "0");
    CHECK(sent[2].payload == "2");
    CHECK(s.storage.outbox.empty());
}

TEST_CASE("a full outbox refuses a task's publication with 429") {
    Started s;
    REQUIRE(s.hub.add_route("task:controller", "things/t1/cmd", "device:t1"));
    s.storage.outbox_limit = 0;
    CHECK(s.hub.publish_from_task("controller", "things/t1/cmd", "x", 1).status == 429);
    CHECK(s.hub.publish_from_task("controller", "things/t1/cmd", "x", 0).status == 202);  // QoS 0: no outbox
}

TEST_CASE("a task's publication to a task invokes it; to the shadow service it is a shadow request") {
    Started s;
    REQUIRE(s.hub.add_route("task:a", "jobs/#", "task:b"));
    REQUIRE(s.hub.add_route("task:a", "$aws/things/t1/shadow/update", "shadow"));
    CHECK(s.hub.publish_from_task("a", "jobs/1", R"({"n":1})", 0).status == 202);
    REQUIRE(s.tasks.invocations.size() == 1);
    CHECK(json::parse(s.tasks.invocations[0].second)["source"] == "task:a");
    CHECK(s.hub.publish_from_task("a", "$aws/things/t1/shadow/update", R"({"state":{"reported":{"x":1}}})", 0).status ==
          202);
    CHECK(s.last_on("$aws/things/t1/shadow/update/accepted")["version"] == 1);
}

TEST_CASE("what the shadow service publishes follows routes from shadow") {
    Started s;
    REQUIRE(s.hub.add_route("shadow", "$aws/things/+/shadow/update/delta", "task:reconciler"));
    s.link.deliver("$aws/things/t1/shadow/update", R"({"state":{"desired":{"mode":"eco"}}})");
    s.run();
    REQUIRE(s.tasks.invocations.size() == 1);
    auto event = json::parse(s.tasks.invocations[0].second);
    CHECK(event["topic"] == "$aws/things/t1/shadow/update/delta");
    CHECK(event["source"] == "shadow");
    CHECK(event["payload"]["state"]["mode"] == "eco");
}

TEST_CASE("shadow calls from the API answer with AWS codes and announce accepted changes") {
    Started s;
    auto missing = s.hub.get_shadow(shadow::Key{"t1", ""});
    CHECK(missing.status == 404);
    auto unknown = s.hub.update_shadow(shadow::Key{"nope", ""}, R"({"state":{"desired":{"a":1}}})");
    CHECK(unknown.status == 404);
    auto updated = s.hub.update_shadow(shadow::Key{"t1", ""}, R"({"state":{"desired":{"a":1}}})");
    CHECK(updated.status == 200);
    CHECK_FALSE(s.link.on("$aws/things/t1/shadow/update/documents").empty());
    CHECK(s.hub.get_shadow(shadow::Key{"t1", ""}).status == 200);
    CHECK(s.hub.delete_shadow(shadow::Key{"t1", ""}).status == 200);
    CHECK(s.hub.get_shadow(shadow::Key{"t1", ""}).status == 404);
}

TEST_CASE("adding a device goes through dynamic security; routes give it grants") {
    Rig rig;
    REQUIRE(rig.hub.start());
    rig.link.connect();
    rig.answer_dynsec();
    std::optional<base::Result<registry::Registry::Enrollment>> enrolled;
    registry::Device device;
    device.thing = "t9";
    rig.hub.add_device(device, [&](auto result) { enrolled = std::move(result); });
    rig.answer_dynsec();
    REQUIRE(enrolled);
    REQUIRE(*enrolled);
    CHECK((*enrolled)->credentials == registry::Credentials::active);
    CHECK((*enrolled)->password.size() >= 22);

    REQUIRE(rig.hub.add_route("task:controller", "things/t9/cmd", "device:t9"));
    bool granted = false;
    for (const auto& m : rig.link.on(registry::kControlTopic)) {
        auto request = json::parse(m.payload);
        for (const auto& c : request["commands"])
            if (c["command"] == "modifyRole" && c.dump().find("things/t9/cmd") != std::string::npos) granted = true;
    }
    CHECK(granted);
}

TEST_CASE("task_event embeds JSON payloads as they are and base64-encodes the rest") {
    CHECK(json::parse(task_event("a", "[1,2]", 0, "device"))["payload"] == json::array({1, 2}));
    CHECK(json::parse(task_event("a", "", 0, "device"))["payload"] == "");
    CHECK(json::parse(task_event("a", "abc", 1, "task:x"))["payload"] == "YWJj");
    CHECK(json::parse(task_event("a", "ab", 1, "task:x"))["payload"] == "YWI=");
    CHECK(json::parse(task_event("a\"b", "{}", 1, "shadow"))["topic"] == "a\"b");
}
