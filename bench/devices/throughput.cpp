// Routing throughput (issue #3, benchmark 1): QoS 0 device messages through mosquitto and
// Gaffer, each figure against mosquitto's own publish -> subscribe rate measured in the same
// run (a plain broker: no plugin, anonymous clients), with the same client library (Paho C
// MQTTAsync, see client.hpp), payload and topic depth. Baseline and figure alternate round
// by round and the medians are reported, so a change in the machine's load hits both.
//
//   bench_device_throughput ceiling plain=URI [bytes= seconds=]
//     the generator alone: one publisher into the plain broker, nobody subscribed.
//   bench_device_throughput d2d plain=URI broker=URI passwords=FILE pub=THING sub=THING
//                           topic=T name=PREFIX [bytes= seconds= rounds=]
//     (a) device -> device: the broker carries the messages under the ACLs gafferd granted.
//   bench_device_throughput gafferd plain=URI broker=URI passwords=FILE socket=API pub=THING
//                           sub=THING topic=T task_pub=THING task_topic=T
//                           task_sub=THING task_sub_filter=F [bytes= seconds= rounds=]
//     (b) gafferd's ingest (its received counter) of messages on `topic`, which it matches
//     against its routing table; (c) device -> task: messages on `task_topic` invoke a relay
//     task that publishes each event to `task_sub`, which counts them.
// Prints `name<TAB>value<TAB>unit` rows (see bench/bench_stats.hpp).
#include <atomic>
#include <cstdio>
#include <exception>

#include "bench/bench_stats.hpp"
#include "bench/devices/api.hpp"
#include "bench/devices/flow.hpp"

using namespace gaffer::bench;
using namespace gaffer::bench::devices;

namespace {

constexpr const char* kReceived = "gaffer_mqtt_messages_received_total";
constexpr const char* kEnded = "gaffer_invocations_total";  // by status: every ended invocation
constexpr const char* kRefused = "gaffer_mqtt_messages_refused_total";

struct Settings {
    std::map<std::string, std::string> args;
    std::string payload;
    double seconds = 3;
    int rounds = 3;
    double warmup = 1;

    std::string arg(const std::string& key) const { return args.at(key); }
};

Account device(const std::map<std::string, std::string>& passwords, const std::string& thing) {
    auto it = passwords.find(thing);
    if (it == passwords.end()) throw std::runtime_error("no password for device " + thing);
    return Account{thing, thing, it->second};
}

// The baseline: mosquitto alone, anonymous publisher -> subscriber.
double raw_round(const Settings& s, const std::string& topic, double* sent = nullptr) {
    std::atomic<std::uint64_t> got{0};
    Client sub(s.arg("plain"), Account{"bench-raw-sub", "", ""}, [&](auto, auto) { got.fetch_add(1); });
    sub.subscribe(topic, 0);
    SyncPublisher pub(s.arg("plain"), Account{"bench-raw-pub", "", ""});
    auto flow = measure_flow(pub, topic, s.payload, s.warmup, s.seconds, [&] { return double(got.load()); });
    if (sent) *sent = flow.sent_per_s;
    return flow.delivered_per_s;
}

// Device A -> device B through the Gaffer broker, as the route's grants allow.
double device_round(const Settings& s, const std::map<std::string, std::string>& passwords,
                    const std::string& pub_thing, const std::string& sub_thing, const std::string& topic) {
    std::atomic<std::uint64_t> got{0};
    Client sub(s.arg("broker"), device(passwords, sub_thing), [&](auto, auto) { got.fetch_add(1); });
    sub.subscribe(topic, 0);
    SyncPublisher pub(s.arg("broker"), device(passwords, pub_thing));
    auto flow = measure_flow(pub, topic, s.payload, s.warmup, s.seconds, [&] { return double(got.load()); });
    if (flow.delivered_per_s <= 0) throw std::runtime_error(sub_thing + " received nothing from " + pub_thing);
    return flow.delivered_per_s;
}

double ingest_round(const Settings& s, const std::map<std::string, std::string>& passwords, ApiConnection& api) {
    SyncPublisher pub(s.arg("broker"), device(passwords, s.arg("pub")));
    auto flow = measure_flow(pub, s.arg("topic"), s.payload, s.warmup, s.seconds,
                             [&] { return api.metrics()[kReceived]; });
    if (flow.delivered_per_s <= 0) throw std::runtime_error("gafferd received nothing on " + s.arg("topic"));
    return flow.delivered_per_s;
}

void report_pair(const std::string& name, const std::vector<double>& raw, const std::vector<double>& figure,
                 const char* what) {
    const double r = median(raw), f = median(figure);
    report(name + "_raw_msgs_s", r, "msg/s mosquitto pub->sub, same run (median)");
    report(name + "_msgs_s", f, what);
    report(name + "_ratio", r > 0 ? f / r : 0, "x raw broker (target >= 0.5)");
}

int run_ceiling(const Settings& s) {
    SyncPublisher pub(s.arg("plain"), Account{"bench-ceiling-pub", "", ""});
    auto flow = measure_flow(pub, "bench/ceiling", s.payload, s.warmup, s.seconds, [] { return 0.0; }, 0);
    report("routing_generator_ceiling_msgs_s", flow.sent_per_s, "msg/s one publisher, no subscriber");
    return 0;
}

int run_d2d(const Settings& s) {
    const auto passwords = read_passwords(s.arg("passwords"));
    std::vector<double> raw, figure;
    for (int r = 0; r < s.rounds; ++r) {
        raw.push_back(raw_round(s, s.arg("topic")));
        figure.push_back(device_round(s, passwords, s.arg("pub"), s.arg("sub"), s.arg("topic")));
        std::fprintf(stderr, "  round %d: raw %.0f/s, device->device %.0f/s\n", r + 1, raw.back(), figure.back());
    }
    report_pair(s.arg("name"), raw, figure, "msg/s device->device under gafferd's ACLs (median)");
    return 0;
}

// (c): the relay task publishes every event it gets to task_sub. gafferd's counter of ended
// invocations gives the rate it ran them; the relayed messages that come back, the rate
// end to end. Messages beyond the scheduler's queue are refused (counted).
void run_tasks(const Settings& s, const std::map<std::string, std::string>& passwords, ApiConnection& api,
               double raw) {
    std::atomic<std::uint64_t> relayed{0};
    Client sub(s.arg("broker"), device(passwords, s.arg("task_sub")), [&](auto, auto) { relayed.fetch_add(1); });
    sub.subscribe(s.arg("task_sub_filter"), 0);
    SyncPublisher pub(s.arg("broker"), device(passwords, s.arg("task_pub")));
    auto sum = [](const std::map<std::string, double>& m, const std::string& family) {
        double n = 0;
        for (const auto& [key, value] : m)
            if (key.rfind(family, 0) == 0) n += value;
        return n;
    };
    auto before = api.metrics();
    const auto relayed_before = relayed.load();
    double ended_start = 0, ended_window = 0;
    int reads = 0;
    // The first seconds fill the scheduler's queue: measure after it, in the steady state.
    auto flow = measure_flow(
        pub, s.arg("task_topic"), s.payload, 3, 2 * s.seconds,
        [&] {
            // Read 1 opens the window, read 2 closes it; later reads only watch the drain.
            if (++reads <= 2) {
                const double ended = sum(api.metrics(), kEnded);
                if (reads == 1) ended_start = ended;
                else ended_window = ended - ended_start;
            }
            return double(relayed.load());
        },
        2.0);
    auto after = api.metrics();
    const double window = 2 * s.seconds;
    report("routing_d2t_sent_msgs_s", flow.sent_per_s, "msg/s the device published (QoS 0)");
    report("routing_d2t_invocations_s", ended_window / window, "invocations/s gafferd ran, steady state");
    report("routing_d2t_executed_s", flow.delivered_per_s, "invocations/s relayed back to a device, steady state");
    report("routing_d2t_ratio", raw > 0 ? flow.delivered_per_s / raw : 0, "x raw broker (target >= 0.5)");
    report("routing_d2t_refused", sum(after, kRefused) - sum(before, kRefused), "messages refused in the run (queue full)");
    report("routing_d2t_accepted_total", sum(after, kEnded) - sum(before, kEnded),
           "messages that became invocations in the run (all ended)");
    report("routing_d2t_relayed_total", double(relayed.load() - relayed_before), "invocations relayed back in the run");

    // The same route within its capacity: at most `window` messages published and not yet
    // relayed back (below the scheduler's queue limit, so nothing is refused).
    const std::uint64_t window_size = 200;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> sent{0};
    const auto relayed_start = relayed.load();
    std::thread paced([&] {
        while (!stop.load()) {
            if (sent.load() - (relayed.load() - relayed_start) >= window_size) {
                std::this_thread::sleep_for(std::chrono::microseconds(100));
                continue;
            }
            if (pub.publish(s.arg("task_topic"), s.payload, 0)) sent.fetch_add(1);
        }
    });
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const auto r0 = relayed.load();
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(2 * s.seconds));
    const double paced_rate = double(relayed.load() - r0) / (micros_since(t0) / 1e6);
    stop = true;
    paced.join();
    report("routing_d2t_windowed_s", paced_rate, "invocations/s relayed back, 200 in flight (no refusals)");
    report("routing_d2t_windowed_ratio", raw > 0 ? paced_rate / raw : 0, "x raw broker (target >= 0.5)");
    for (int i = 0; i < 100 && relayed.load() - relayed_start < sent.load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

int run_gafferd(const Settings& s) {
    const auto passwords = read_passwords(s.arg("passwords"));
    ApiConnection api(s.arg("socket"));
    std::vector<double> raw, routed, ingest;
    for (int r = 0; r < s.rounds; ++r) {
        raw.push_back(raw_round(s, s.arg("topic")));
        routed.push_back(device_round(s, passwords, s.arg("pub"), s.arg("sub"), s.arg("topic")));
        ingest.push_back(ingest_round(s, passwords, api));
        std::fprintf(stderr, "  round %d: raw %.0f/s, device->device %.0f/s, gafferd ingest %.0f/s\n", r + 1,
                     raw.back(), routed.back(), ingest.back());
    }
    const auto routes = api.metrics()["gaffer_mqtt_routes"];
    report_pair("routing_d2d_table", raw, routed,
                "msg/s device->device, gafferd subscribed to # with the route table (median)");
    report_pair("routing_ingest", raw, ingest, "msg/s gafferd received and matched (median)");
    report("routing_table_routes", routes, "routes installed during the routing figures");
    run_tasks(s, passwords, api, median(raw));
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_device_throughput ceiling|d2d|gafferd name=value...\n");
        return 2;
    }
    const std::string mode = argv[1];
    Settings s;
    s.args = parse_args(argc, argv, 2, {"plain"});
    if (s.args.count("bytes")) s.payload = json_payload(std::stoul(s.arg("bytes")));
    else s.payload = json_payload(64);
    if (s.args.count("seconds")) s.seconds = std::stod(s.arg("seconds"));
    if (s.args.count("rounds")) s.rounds = std::stoi(s.arg("rounds"));
    if (mode == "ceiling") return run_ceiling(s);
    if (mode == "d2d") return run_d2d(s);
    if (mode == "gafferd") return run_gafferd(s);
    std::fprintf(stderr, "bench_device_throughput: unknown mode %s\n", mode.c_str());
    return 2;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_device_throughput: %s\n", e.what());
    return 1;
}
