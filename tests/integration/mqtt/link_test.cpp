// The Paho link against a real mosquitto: round trips, refusals, stop and destruction.
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>

#include "broker.hpp"
#include "harness.hpp"

using namespace gaffer;
using namespace gaffer::mqtt;
using namespace gaffer::mqtt::testing;
using namespace std::chrono_literals;

namespace {
struct Outcome {
    std::optional<base::Result<void>> result;
    int calls = 0;
};
Link::Done record(Outcome& outcome) {
    return [&outcome](base::Result<void> r) {
        outcome.result = std::move(r);
        ++outcome.calls;
    };
}
}  // namespace

TEST_SUITE("integration") {

TEST_CASE("connect, subscribe and round-trip QoS 0 and QoS 1 messages") {
    Broker broker;
    broker.start();
    loop::Loop loop;
    Recorder seen;
    auto options = options_for(broker.uri(), "roundtrip");
    options.no_local = false;  // this test reads its own publications back
    auto link = start_link(loop, options, seen);
    REQUIRE(link->subscribe("rt/#", 1));
    REQUIRE_MESSAGE(run_until(loop, 5s, [&] { return link->connected(); }), broker.log());
    CHECK(seen.connection_events.at(0).first);

    Outcome qos0, qos1;
    link->publish(Message{"rt/zero", "payload-0", 0, false}, record(qos0));
    link->publish(Message{"rt/one", std::string("bin\0ary", 7), 1, false}, record(qos1));
    REQUIRE(run_until(loop, 5s, [&] { return seen.messages.size() == 2 && qos0.calls && qos1.calls; }));
    CHECK(qos0.result->has_value());
    CHECK(qos1.result->has_value());
    CHECK(qos0.calls == 1);
    CHECK(qos1.calls == 1);
    CHECK(seen.messages[0].topic == "rt/zero");
    CHECK(seen.messages[0].payload == "payload-0");
    CHECK(seen.messages[0].qos == 0);
    CHECK(seen.messages[1].topic == "rt/one");
    CHECK(seen.messages[1].payload == std::string("bin\0ary", 7));
    CHECK(seen.messages[1].qos == 1);

    // A message from another client (mosquitto_pub, MQTT 3.1.1) arrives too.
    CHECK(run_program({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()),
                       "-q", "1", "-t", "rt/outside", "-m", "hello"}) == 0);
    REQUIRE(run_until(loop, 5s, [&] { return seen.messages.size() == 3; }));
    CHECK(seen.messages[2].topic == "rt/outside");
    CHECK(seen.messages[2].payload == "hello");

    // After unsubscribe nothing more arrives.
    REQUIRE(link->unsubscribe("rt/#"));
    run_for(loop, 200ms);
    Outcome after;
    link->publish(Message{"rt/zero", "late", 1, false}, record(after));
    REQUIRE(run_until(loop, 5s, [&] { return after.calls == 1; }));
    run_for(loop, 200ms);
    CHECK(seen.messages.size() == 3);
}

TEST_CASE("no_local keeps the link's own publications from coming back; retained messages arrive") {
    Broker broker;
    broker.start();
    CHECK(run_program({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()),
                       "-q", "1", "-r", "-t", "nl/retained", "-m", "kept"}) == 0);
    loop::Loop loop;
    Recorder seen;
    auto link = start_link(loop, options_for(broker.uri(), "nolocal"), seen);
    REQUIRE(link->subscribe("nl/#", 1));
    REQUIRE(run_until(loop, 5s, [&] { return seen.messages.size() == 1; }));
    CHECK(seen.messages[0].topic == "nl/retained");
    CHECK(seen.messages[0].retain);
    Outcome own;
    link->publish(Message{"nl/own", "mine", 1, false}, record(own));
    REQUIRE(run_until(loop, 5s, [&] { return own.calls == 1; }));
    CHECK(own.result->has_value());
    run_for(loop, 300ms);
    CHECK(seen.messages.size() == 1);
}

TEST_CASE("bad input is refused before it reaches the broker") {
    Broker broker;
    broker.start();
    loop::Loop loop;
    Recorder seen;
    auto link = start_link(loop, options_for(broker.uri(), "refusals"), seen);
    REQUIRE(run_until(loop, 5s, [&] { return link->connected(); }));

    auto code_of = [](const base::Result<void>& r) { return r ? std::string("ok") : std::string(base::errc_name(r.error().code)); };
    CHECK(code_of(link->subscribe("a/#/b", 1)) == "invalid");
    CHECK(code_of(link->subscribe("a/b", 3)) == "invalid");
    CHECK(code_of(link->unsubscribe("")) == "invalid");
    Outcome wildcard, qos, empty;
    link->publish(Message{"a/+", "x", 0, false}, record(wildcard));
    link->publish(Message{"a/b", "x", 7, false}, record(qos));
    link->publish(Message{"", "x", 0, false}, record(empty));
    // Refusals are reported before publish() returns.
    REQUIRE(wildcard.calls == 1);
    REQUIRE(qos.calls == 1);
    REQUIRE(empty.calls == 1);
    CHECK(wildcard.result->error().code == base::Errc::invalid);
    CHECK(wildcard.result->error().message.find("wildcard") != std::string::npos);
    CHECK(qos.result->error().message.find("qos is 7") != std::string::npos);
    CHECK(empty.result->error().message.find("empty") != std::string::npos);
    CHECK(link->connected());  // nothing invalid reached the broker

    auto refused = make_paho_link(loop, options_for("mqtt://127.0.0.1:1", "x"));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == base::Errc::invalid);
    CHECK(refused.error().message.find("option uri") != std::string::npos);
}

TEST_CASE("publish while disconnected fails unavailable at once, and the link reconnects") {
    Broker broker;  // not started yet: the first attempts are refused
    loop::Loop loop;
    Recorder seen;
    auto link = start_link(loop, options_for(broker.uri(), "unavailable"), seen);
    REQUIRE(link->subscribe("ua/#", 1));
    Outcome early;
    link->publish(Message{"ua/x", "1", 1, false}, record(early));
    REQUIRE(early.calls == 1);
    CHECK(early.result->error().code == base::Errc::unavailable);
    run_for(loop, 300ms);  // several refused attempts with backoff
    CHECK_FALSE(link->connected());

    broker.start();
    REQUIRE_MESSAGE(run_until(loop, 5s, [&] { return link->connected(); }), broker.log());
    CHECK(seen.connects() == 1);

    broker.stop();
    REQUIRE(run_until(loop, 5s, [&] { return !link->connected(); }));
    CHECK(seen.disconnects() == 1);
    CHECK_FALSE(seen.connection_events.back().second.empty());  // a reason is given
    Outcome late;
    link->publish(Message{"ua/x", "2", 1, false}, record(late));
    REQUIRE(late.calls == 1);
    CHECK(late.result->error().code == base::Errc::unavailable);

    broker.start();
    REQUIRE(run_until(loop, 5s, [&] { return link->connected(); }));
    CHECK(seen.connects() == 2);
    // Resubscribed: a message published now reaches the link.
    CHECK(run_program({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()),
                       "-q", "1", "-t", "ua/back", "-m", "again"}) == 0);
    REQUIRE(run_until(loop, 5s, [&] { return !seen.messages.empty(); }));
    CHECK(seen.messages.back().payload == "again");
}

TEST_CASE("stop lets in-flight publishes finish, disconnects and calls stopped once") {
    Broker broker;
    broker.start();
    loop::Loop loop;
    Recorder seen;
    auto link = start_link(loop, options_for(broker.uri(), "stopper"), seen);
    REQUIRE(run_until(loop, 5s, [&] { return link->connected(); }));
    constexpr int kCount = 200;
    int ok = 0, failed = 0, stopped = 0;
    for (int i = 0; i < kCount; ++i)
        link->publish(Message{"stop/x", std::to_string(i), 1, false}, [&](base::Result<void> r) {
            (r ? ok : failed)++;
            CHECK(stopped == 0);  // every publish completes before stopped runs
        });
    link->stop([&] { ++stopped; });
    REQUIRE(run_until(loop, 10s, [&] { return stopped > 0; }));
    CHECK(ok + failed == kCount);
    CHECK(ok > 0);
    CHECK_FALSE(link->connected());
    CHECK(seen.connection_events.back() == std::make_pair(false, std::string("stopped")));
    Outcome after;
    link->publish(Message{"stop/x", "late", 0, false}, record(after));
    CHECK(after.result->error().code == base::Errc::unavailable);
    run_for(loop, 200ms);
    CHECK(stopped == 1);
}

TEST_CASE("destroying the link with traffic in flight is clean") {
    Broker broker;
    broker.start();
    loop::Loop loop;
    Recorder seen;
    auto options = options_for(broker.uri(), "destroyer");
    options.no_local = false;  // inbound traffic too
    auto link = start_link(loop, options, seen);
    REQUIRE(link->subscribe("gone/#", 1));
    REQUIRE(run_until(loop, 5s, [&] { return link->connected(); }));
    auto destroyed = std::make_shared<bool>(false);
    int late_calls = 0;
    int completed = 0;
    for (int i = 0; i < 900; ++i)
        link->publish(Message{"gone/x", std::string(512, 'p'), i % 2, false},
                      [destroyed, &late_calls, &completed](base::Result<void>) {
                          if (*destroyed) ++late_calls;
                          ++completed;
                      });
    run_until(loop, 5s, [&] { return seen.messages.size() > 20; });
    CHECK(completed < 900);  // still in flight
    link.reset();
    *destroyed = true;
    run_for(loop, 300ms);  // posts from Paho that were pending reach a link that is gone
    CHECK(late_calls == 0);

    // Destroyed while connecting and while waiting to retry: just as clean.
    Broker nowhere;
    Recorder ignored;
    auto connecting = start_link(loop, options_for(nowhere.uri(), "never"), ignored);
    connecting.reset();
    auto waiting = start_link(loop, options_for(nowhere.uri(), "never2"), ignored);
    run_for(loop, 100ms);
    waiting.reset();
    run_for(loop, 100ms);
    CHECK(ignored.connects() == 0);
}

TEST_CASE("a handler may destroy the link that calls it") {
    Broker broker;
    broker.start();
    loop::Loop loop;
    auto options = options_for(broker.uri(), "selfdestruct");
    options.no_local = false;
    auto made = make_paho_link(loop, options);
    REQUIRE(made);
    std::unique_ptr<Link> link = std::move(*made);
    int messages = 0;
    bool up = false;
    link->set_handlers([&](Message) { ++messages; link.reset(); },
                       [&](bool connected, std::string) { up = connected; });
    link->start();
    REQUIRE(link->subscribe("self/#", 0));
    REQUIRE(run_until(loop, 5s, [&] { return up; }));
    for (int i = 0; i < 50; ++i) link->publish(Message{"self/x", "boom", 0, false}, nullptr);
    REQUIRE(run_until(loop, 5s, [&] { return link == nullptr; }));
    run_for(loop, 200ms);
    CHECK(messages == 1);  // nothing after the link was gone
}

}  // TEST_SUITE
