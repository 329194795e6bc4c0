// Throughput through the link and a real broker: the link publishes and receives its own
// messages (no_local off), keeping max_inflight publishes outstanding. Checks that every
// message arrives in order and reports the rate (the benchmark compares it elsewhere).
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "broker.hpp"
#include "harness.hpp"

using namespace gaffer;
using namespace gaffer::mqtt;
using namespace gaffer::mqtt::testing;
using namespace std::chrono_literals;

namespace {

double cpu_seconds() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void measure(int qos, int count, const std::string& extra_config) {
    Broker broker(extra_config);
    broker.start();
    loop::Loop loop;
    Recorder seen;
    seen.messages.reserve(static_cast<std::size_t>(count));
    auto options = options_for(broker.uri(), "bench");
    options.no_local = false;
    if (const char* env = std::getenv("MQTT_BENCH_INFLIGHT")) options.max_inflight = std::stoul(env);
    auto link = start_link(loop, options, seen);
    REQUIRE(link->subscribe("bench/#", qos));
    REQUIRE(run_until(loop, 5s, [&] { return link->connected(); }));
    run_for(loop, 100ms);

    int sent = 0, completed = 0, failed = 0;
    std::function<void()> fill = [&] {
        while (sent < count && sent - completed < static_cast<int>(options.max_inflight)) {
            ++sent;
            link->publish(Message{"bench/x", std::string(100, 'x'), qos, false}, [&](base::Result<void> r) {
                ++completed;
                if (!r) ++failed;
                fill();
            });
        }
    };
    auto cpu_start = cpu_seconds();
    auto start = std::chrono::steady_clock::now();
    fill();
    REQUIRE(run_until(loop, 60s, [&] { return completed == count && static_cast<int>(seen.messages.size()) >= count; }));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double cpu = cpu_seconds() - cpu_start;
    CHECK(failed == 0);
    CHECK(static_cast<int>(seen.messages.size()) == count);
    MESSAGE("QoS " << qos << ", 100-byte payloads" << (extra_config.empty() ? "" : ", broker " + extra_config.substr(0, extra_config.size() - 1))
                   << ": " << count << " published and received in " << seconds << " s = "
                   << static_cast<long>(count / seconds) << " messages/s; this process used "
                   << static_cast<long>(cpu * 1e6 / count) << " us of CPU per message");
}

}  // namespace

TEST_SUITE("integration") {

TEST_CASE("throughput: QoS 1 round trip against mosquitto's default Receive Maximum (20)") {
    measure(1, 20000, "");
}

TEST_CASE("throughput: QoS 1 round trip with max_inflight_messages 1000") {
    measure(1, 20000, "max_inflight_messages 1000\n");
}

TEST_CASE("throughput: QoS 0 round trip") {
    measure(0, 50000, "");
}

}  // TEST_SUITE
