// Routing latency (issue #3, benchmark 3), at whatever number of devices and routes is
// registered when it runs:
//   d2d:   device A publishes (QoS 0), device B receives it through the broker (a
//          device -> device route: the broker carries it under gafferd's ACLs);
//   d2t2d: device C publishes (QoS 0), gafferd routes it to the relay task (an asynchronous
//          invocation, journalled), the relay publishes the event through the runtime API,
//          gafferd publishes it on the broker, device D receives it: a full round trip.
// Messages go at a fixed, moderate rate (not a throughput test) and carry a sequence number;
// latency is publish -> receipt of that number.
//
//   bench_device_latency broker=URI passwords=FILE label=L pub=A sub=B topic=T
//        task_pub=C task_topic=T2 task_sub=D task_sub_filter=F
//        [rate=500 count=1000 task_rate=100 task_count=300 bytes=64]
#include <atomic>
#include <cstdio>
#include <string_view>
#include <thread>

#include "bench/bench_stats.hpp"
#include "bench/devices/api.hpp"
#include "bench/devices/client.hpp"

using namespace gaffer::bench;
using namespace gaffer::bench::devices;

namespace {

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// The number after the first "seq": in `text` (a payload, or a task event that embeds it).
long parse_seq(std::string_view text) {
    const auto at = text.find("\"seq\":");
    if (at == std::string_view::npos) return -1;
    long n = 0;
    std::size_t i = at + 6;
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return -1;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) n = n * 10 + (text[i] - '0');
    return n;
}

struct Result {
    Samples samples;
    int lost = 0;
};

Result measure(const std::string& broker, const Account& from, const Account& to, const std::string& topic,
               const std::string& filter, double rate, int count, std::size_t bytes, double linger) {
    std::vector<std::atomic<std::int64_t>> sent(static_cast<std::size_t>(count));
    std::vector<std::atomic<std::int64_t>> latency(static_cast<std::size_t>(count));
    for (auto& l : latency) l = -1;
    std::atomic<int> received{0};
    Client sub(broker, to, [&](std::string_view, std::string_view payload) {
        const long seq = parse_seq(payload);
        if (seq < 0 || seq >= count) return;
        const auto at = now_ns();
        std::int64_t unset = -1;
        if (latency[static_cast<std::size_t>(seq)].compare_exchange_strong(unset, at - sent[seq].load())) ++received;
    });
    sub.subscribe(filter, 0);
    SyncPublisher pub(broker, from);
    const auto start = Clock::now();
    for (int i = 0; i < count; ++i) {
        std::this_thread::sleep_until(start + std::chrono::duration<double>(i / rate));
        std::string payload = "{\"seq\":" + std::to_string(i) + ",\"v\":\"";
        payload += std::string(bytes > payload.size() + 2 ? bytes - payload.size() - 2 : 1, 'x') + "\"}";
        sent[static_cast<std::size_t>(i)] = now_ns();
        pub.publish(topic, payload, 0);
    }
    const auto give_up = Clock::now() + std::chrono::duration<double>(linger);
    while (received.load() < count && Clock::now() < give_up) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    Result result;
    for (auto& l : latency) {
        if (l.load() < 0) ++result.lost;
        else result.samples.values.push_back(static_cast<double>(l.load()) / 1000);
    }
    return result;
}

void report_latency(const std::string& name, Result& r, const std::string& label) {
    report(name + "_p50_us_" + label, r.samples.percentile(50), "us");
    report(name + "_p99_us_" + label, r.samples.percentile(99), "us");
    if (r.lost > 0) report(name + "_lost_" + label, r.lost, "messages that never arrived");
}

}  // namespace

int main(int argc, char** argv) try {
    const auto args = parse_args(argc, argv, 1, {"broker", "passwords", "label", "pub", "sub", "topic", "task_pub",
                                                  "task_topic", "task_sub", "task_sub_filter"});
    auto get = [&](const char* key, double fallback) { return args.count(key) ? std::stod(args.at(key)) : fallback; };
    const auto passwords = read_passwords(args.at("passwords"));
    auto device = [&](const std::string& thing) {
        auto it = passwords.find(thing);
        if (it == passwords.end()) throw std::runtime_error("no password for device " + thing);
        return Account{thing, thing, it->second};
    };
    const auto bytes = static_cast<std::size_t>(get("bytes", 64));
    const std::string label = args.at("label");
    auto d2d = measure(args.at("broker"), device(args.at("pub")), device(args.at("sub")), args.at("topic"),
                       args.at("topic"), get("rate", 500), static_cast<int>(get("count", 1000)), bytes, 3);
    report_latency("routing_latency_d2d", d2d, label);
    auto d2t = measure(args.at("broker"), device(args.at("task_pub")), device(args.at("task_sub")),
                       args.at("task_topic"), args.at("task_sub_filter"), get("task_rate", 100),
                       static_cast<int>(get("task_count", 300)), bytes, 10);
    report_latency("routing_latency_d2t2d", d2t, label);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_device_latency: %s\n", e.what());
    return 1;
}
