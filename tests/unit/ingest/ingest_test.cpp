#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>

#include "coordinator/loop/loop.hpp"
#include "devices/ingest/ingest.hpp"
#include "devices/routing/routing.hpp"

using namespace gaffer;
using namespace gaffer::ingest;
using namespace std::chrono_literals;

namespace {

std::string encoded(const Frame& frame) {
    std::string out;
    encode(frame, out);
    return out;
}

// Feeds `bytes` one byte at a time: frames must come out whole however the stream splits.
std::vector<Frame> decode_bytewise(const std::string& bytes) {
    Decoder decoder;
    std::vector<Frame> out;
    for (char c : bytes) {
        REQUIRE(decoder.feed(std::string_view(&c, 1)));
        while (auto frame = decoder.next()) out.push_back(std::move(*frame));
    }
    CHECK_FALSE(decoder.broken());
    return out;
}

std::string body_frame(const std::string& body) {
    std::string out;
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(body.size() >> (8 * i)));
    return out + body;
}

}  // namespace

TEST_CASE("frames survive encoding and any split of the stream") {
    Message m;
    m.seq = 0x0102030405060708ull;
    m.client_id = "sensor-1";
    m.topic = "things/sensor-1/data";
    m.qos = 1;
    m.retain = true;
    m.payload = std::string("\0\xff{}", 4);
    const std::string bytes = encoded(Routes{{{"a", "x/#"}, {"b", "+/y"}}}) + encoded(m) +
                              encoded(Verdict{7, false, "queue full"}) + encoded(Routes{});
    auto frames = decode_bytewise(bytes);
    REQUIRE(frames.size() == 4);
    auto& routes = std::get<Routes>(frames[0]);
    CHECK(routes.filters == std::vector<RouteFilter>{{"a", "x/#"}, {"b", "+/y"}});
    auto& got = std::get<Message>(frames[1]);
    CHECK(got.seq == m.seq);
    CHECK(got.client_id == m.client_id);
    CHECK(got.topic == m.topic);
    CHECK(got.qos == 1);
    CHECK(got.retain);
    CHECK(got.payload == m.payload);
    auto& verdict = std::get<Verdict>(frames[2]);
    CHECK(verdict.seq == 7);
    CHECK_FALSE(verdict.accepted);
    CHECK(verdict.reason == "queue full");
    CHECK(std::get<Routes>(frames[3]).filters.empty());
}

TEST_CASE("a malformed or oversized frame breaks the decoder for good, with the reason") {
    SUBCASE("unknown type") {
        Decoder d;
        d.feed(body_frame(std::string(1, '\x09')));
        CHECK_FALSE(d.next());
        CHECK(d.broken());
        CHECK(d.error() == "a malformed frame (type 9)");
    }
    SUBCASE("trailing bytes after the fields") {
        Decoder d;
        d.feed(body_frame(encoded(Verdict{1, true, ""}).substr(4) + "x"));
        CHECK_FALSE(d.next());
        CHECK(d.broken());
    }
    SUBCASE("a string longer than its frame") {
        std::string body = encoded(Verdict{1, true, "why"}).substr(4);
        body[10] = '\x7f';  // the reason's length
        Decoder d;
        d.feed(body_frame(body));
        CHECK_FALSE(d.next());
        CHECK(d.broken());
    }
    SUBCASE("a routes count no body could hold") {
        std::string body = "\x01\xff\xff\xff\x7f";
        Decoder d;
        d.feed(body_frame(body));
        CHECK_FALSE(d.next());
        CHECK(d.broken());
    }
    SUBCASE("over kMaxFrame") {
        Decoder d;
        d.feed(std::string("\x01\x00\x00\x02", 4));  // 32 MiB + 1
        CHECK_FALSE(d.next());
        CHECK(d.error().find("bytes (1..16777216 allowed)") != std::string::npos);
        CHECK_FALSE(d.feed("more"));
    }
    SUBCASE("empty") {
        Decoder d;
        d.feed(std::string(4, '\0'));
        CHECK_FALSE(d.next());
        CHECK(d.broken());
    }
}

TEST_CASE("durable_routes are the device -> task routes, by thing and filter, once each") {
    routing::RouteTable table;
    std::int64_t id = 0;
    auto add = [&](const char* source, const char* filter, const char* target) {
        auto route = routing::make_route(source, filter, target);
        REQUIRE(route);
        route->id = ++id;
        REQUIRE(table.add(*route));
    };
    add("device:b", "things/b/#", "task:one");
    add("device:b", "things/b/#", "task:two");   // same filter, second task: listed once
    add("device:a", "things/a/data", "task:one");
    add("device:a", "things/a/cmd", "device:b");  // carried by the broker: not held
    add("task:one", "things/a/in", "device:a");
    CHECK(durable_routes(table) == std::vector<RouteFilter>{{"a", "things/a/data"}, {"b", "things/b/#"}});
}

TEST_CASE("the client sends the routes on every connect and change, and answers each message once") {
    loop::Loop loop;
    const std::string path = "/tmp/gaffer-ingest-test-" + std::to_string(::getpid()) + ".sock";
    std::unique_ptr<loop::Stream> plugin;  // the test plays the broker's plugin
    Decoder from_client;
    std::vector<Frame> seen;
    int connects = 0;
    std::vector<std::string> logged;

    Client client(loop, Client::Options{path, 20ms},
                  [&](Message m, Client::Answer answer) {
                      CHECK(m.topic == "things/a/data");
                      answer(true, "");
                      answer(false, "twice");  // only the first counts
                  },
                  [&](base::LogLevel, std::string_view text) { logged.emplace_back(text); });

    std::unique_ptr<loop::Listener> listener;
    auto on_frame = [&](Frame frame) {
        seen.push_back(frame);
        if (std::holds_alternative<Routes>(frame) && seen.size() == 1) {
            CHECK(std::get<Routes>(frame).filters.empty());
            client.set_routes({{"a", "things/a/data"}});
            client.set_routes({{"a", "things/a/data"}});  // unchanged: not sent again
        } else if (std::holds_alternative<Routes>(frame) && seen.size() == 2) {
            std::string bytes;
            Message m;
            m.seq = 41;
            m.client_id = "a";
            m.topic = "things/a/data";
            encode(m, bytes);
            plugin->write(bytes);
        } else if (std::holds_alternative<Verdict>(frame)) {
            CHECK(std::get<Verdict>(frame).seq == 41);
            CHECK(std::get<Verdict>(frame).accepted);
            plugin.reset();  // the broker restarts: the client must come back
        } else if (std::holds_alternative<Routes>(frame)) {
            CHECK(std::get<Routes>(frame).filters == std::vector<RouteFilter>{{"a", "things/a/data"}});
            loop.stop();
        }
    };
    auto listening = loop::Listener::listen(loop, path, 0600, [&](std::unique_ptr<loop::Stream> s) {
        ++connects;
        plugin = std::move(s);
        from_client = Decoder();
        plugin->start(
            [&](std::string_view bytes) {
                from_client.feed(bytes);
                while (auto f = from_client.next()) on_frame(std::move(*f));
            },
            [](base::Error) {});
    });
    REQUIRE(listening);
    listener = std::move(*listening);
    client.start();
    loop::Timer guard(loop);
    guard.start(5s, [&] { loop.stop(); });
    loop.run();
    CHECK(connects == 2);
    CHECK(seen.size() == 4);  // routes, routes, verdict (once), routes again
    CHECK(client.connected());
}

TEST_CASE("the client says once why it cannot reach the plugin, and keeps trying") {
    loop::Loop loop;
    std::vector<std::string> logged;
    Client client(loop, Client::Options{"/tmp/gaffer-ingest-test-nobody-listens.sock", 10ms},
                  [](Message, Client::Answer) {},
                  [&](base::LogLevel, std::string_view text) { logged.emplace_back(text); });
    client.start();
    loop::Timer guard(loop);
    guard.start(100ms, [&] { loop.stop(); });
    loop.run();
    CHECK_FALSE(client.connected());
    REQUIRE(logged.size() == 1);
    CHECK(logged[0].find("no broker plugin (connect /tmp/gaffer-ingest-test-nobody-listens.sock") != std::string::npos);
}
