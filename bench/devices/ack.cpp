// What the ingest plugin costs a device (issue #3: "QoS 1 messages are acknowledged to the
// device only once Gaffer has durably accepted them"): one device publishes QoS 1 messages
//   held:     on a topic a route sends to a task: the broker's plugin holds the PUBACK
//             until gafferd has committed the invocation (an SQLite commit);
//   baseline: on its own things/<thing>/... topic, which no task route takes: the broker
//             acknowledges at once, as it would without the plugin.
// Two figures each: publish -> PUBACK one message at a time (p50, p99), and acknowledged
// messages per second with `window` messages in flight.
//
//   bench_device_ack broker=URI passwords=FILE device=THING held_topic=T
//        [count=1000 seconds=3 window=16 bytes=64]
#include <cstdio>
#include <thread>

#include "bench/bench_stats.hpp"
#include "bench/devices/api.hpp"
#include "bench/devices/client.hpp"

using namespace gaffer::bench;
using namespace gaffer::bench::devices;

namespace {

Samples one_at_a_time(Client& client, const std::string& topic, const std::string& payload, int count) {
    Samples samples;
    for (int i = 0; i < count; ++i) {
        const auto start = Clock::now();
        if (!client.publish(topic, payload, 1)) throw std::runtime_error("publish refused on " + topic);
        client.drain(10);
        samples.values.push_back(micros_since(start));
    }
    return samples;
}

double per_second(const std::string& broker, const Account& account, const std::string& topic,
                  const std::string& payload, double seconds, std::size_t window) {
    Client client(broker, account, {}, window);
    const std::uint64_t failed_before = client.failures();
    const auto start = Clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) client.publish(topic, payload, 1);
    client.drain(30);
    const double elapsed = micros_since(start) / 1e6;
    if (client.failures() > failed_before) throw std::runtime_error("publishes failed on " + topic);
    return static_cast<double>(client.completed()) / elapsed;
}

}  // namespace

int main(int argc, char** argv) try {
    const auto args = parse_args(argc, argv, 1, {"broker", "passwords", "device", "held_topic"});
    auto get = [&](const char* key, double fallback) { return args.count(key) ? std::stod(args.at(key)) : fallback; };
    const auto passwords = read_passwords(args.at("passwords"));
    const std::string thing = args.at("device");
    auto it = passwords.find(thing);
    if (it == passwords.end()) throw std::runtime_error("no password for device " + thing);
    const Account account{thing, thing, it->second};
    const std::string payload(static_cast<std::size_t>(get("bytes", 64)), 'x');
    const std::string held = args.at("held_topic");
    const std::string baseline = "things/" + thing + "/bench-ack";
    const int count = static_cast<int>(get("count", 1000));
    {
        Client client(args.at("broker"), account, {}, 1);
        auto h = one_at_a_time(client, held, payload, count);
        auto b = one_at_a_time(client, baseline, payload, count);
        report("ingest_puback_held_p50_us", h.percentile(50), "us publish -> PUBACK, QoS 1 to a task (held until committed)");
        report("ingest_puback_held_p99_us", h.percentile(99), "us");
        report("ingest_puback_baseline_p50_us", b.percentile(50), "us publish -> PUBACK, QoS 1 no task route takes");
        report("ingest_puback_baseline_p99_us", b.percentile(99), "us");
    }
    const double seconds = get("seconds", 3);
    const auto window = static_cast<std::size_t>(get("window", 16));
    const double h = per_second(args.at("broker"), account, held, payload, seconds, window);
    const double b = per_second(args.at("broker"), account, baseline, payload, seconds, window);
    const std::string held_unit = "QoS 1 messages/s acknowledged, to a task, window " + std::to_string(window);
    report("ingest_held_msgs_per_s", h, held_unit.c_str());
    report("ingest_baseline_msgs_per_s", b, "QoS 1 messages/s acknowledged, no task route");
    report("ingest_held_vs_baseline", h / b, "ratio");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_device_ack: %s\n", e.what());
    return 1;
}
