// Shadow updates over MQTT (issue #3, benchmark 2): sustained updates per second and the
// latency from publishing `$aws/things/T/shadow/update` to receiving its
// `/update/accepted`, against the real gafferd and mosquitto.
//
// K devices, each its own thing and its own connection (client id = thing name), pipeline
// their requests: up to `window` of a device's updates wait for an answer at once. Every
// update changes the reported state (so each is a real SQLite write, group-committed) and
// carries a clientToken "<device>-<seq>" by which its answer is matched and timed.
//
// The baseline, in the same run: the same K clients and the same requests on a plain
// mosquitto, answered by an echo client (one MQTT client that republishes each request on
// its /update/accepted topic at the same QoS): what the broker and the client library alone
// cost. Each side runs closed-loop (as fast as the windows allow) and open-loop at each of
// `rates` (requests/s offered); p50/p99 are reported at each offered rate.
//
//   bench_device_shadow plain=URI broker=URI passwords=FILE prefix=P devices=K
//                       [window=16 seconds=5 rates=5000,1000 qos=1]
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <sstream>
#include <thread>

#include "bench/bench_stats.hpp"
#include "bench/devices/api.hpp"
#include "bench/devices/client.hpp"

using namespace gaffer::bench;
using namespace gaffer::bench::devices;

namespace {

constexpr std::size_t kRing = 1 << 14;  // > window: a device's send times by seq % kRing

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

struct Device {
    std::string thing;
    std::unique_ptr<Client> client;
    std::string update_topic;
    std::vector<std::atomic<std::int64_t>> sent = std::vector<std::atomic<std::int64_t>>(kRing);
    std::atomic<int> outstanding{0};
    std::uint64_t next_seq = 0;
};

struct Run {
    std::atomic<bool> measuring{false};
    std::atomic<std::uint64_t> answered{0}, rejected{0};
    std::mutex mutex;
    Samples samples;  // latencies of answers received while measuring
};

// Echoes each shadow update request on its /update/accepted topic, from its own thread (a
// Paho callback must not block on the client's publish window).
class Echo {
public:
    Echo(const std::string& uri, int qos) : qos_(qos) {
        client_ = std::make_unique<Client>(uri, Account{"bench-shadow-echo", "", ""},
                                           [this](std::string_view topic, std::string_view payload) {
                                               std::lock_guard lock(mutex_);
                                               queue_.emplace_back(std::string(topic) + "/accepted", payload);
                                               cv_.notify_one();
                                           });
        client_->subscribe("$aws/things/+/shadow/update", qos);
        thread_ = std::thread([this] { loop(); });
    }
    ~Echo() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
            cv_.notify_one();
        }
        thread_.join();
    }

private:
    void loop() {
        std::unique_lock lock(mutex_);
        for (;;) {
            cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
            if (stop_) return;
            auto [topic, payload] = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            client_->publish(topic, payload, qos_);
            lock.lock();
        }
    }

    int qos_;
    std::unique_ptr<Client> client_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::pair<std::string, std::string>> queue_;
    bool stop_ = false;
    std::thread thread_;
};

void on_answer(Run& run, std::vector<std::unique_ptr<Device>>& devices, std::string_view topic,
               std::string_view payload) {
    const auto at = payload.find("\"clientToken\":\"");
    if (at == std::string_view::npos) return;
    std::size_t i = at + 15, index = 0;
    std::uint64_t seq = 0;
    for (; i < payload.size() && payload[i] != '-'; ++i) index = index * 10 + static_cast<std::size_t>(payload[i] - '0');
    for (++i; i < payload.size() && payload[i] != '"'; ++i) seq = seq * 10 + static_cast<std::uint64_t>(payload[i] - '0');
    if (index >= devices.size()) return;
    auto& d = *devices[index];
    const double micros = static_cast<double>(now_ns() - d.sent[seq % kRing].load()) / 1000;
    d.outstanding.fetch_sub(1);
    if (!run.measuring.load()) return;
    run.answered.fetch_add(1);
    if (topic.ends_with("/rejected")) run.rejected.fetch_add(1);
    std::lock_guard lock(run.mutex);
    run.samples.values.push_back(micros);
}

struct Outcome {
    double per_s = 0, p50_ms = 0, p99_ms = 0;
    std::uint64_t rejected = 0, held = 0;
};

// rate 0: closed loop. Otherwise request i goes at start + i/rate to device i % K; when that
// device already has `window` requests unanswered the request is skipped and counted as held.
Outcome measure(const std::string& uri, const std::vector<Account>& accounts, int window, double seconds,
                double rate, int qos) {
    Run run;
    std::vector<std::unique_ptr<Device>> devices;
    for (const auto& account : accounts) {
        auto d = std::make_unique<Device>();
        d->thing = account.client_id;
        d->update_topic = "$aws/things/" + d->thing + "/shadow/update";
        devices.push_back(std::move(d));
    }
    const auto connecting = Clock::now();
    for (std::size_t i = 0; i < devices.size(); ++i) {
        auto& d = *devices[i];
        d.client = std::make_unique<Client>(
            uri, accounts[i], [&](std::string_view t, std::string_view p) { on_answer(run, devices, t, p); },
            static_cast<std::size_t>(window), false);
    }
    for (auto& device : devices) {
        auto& d = *device;
        d.client->await_connected();
        d.client->subscribe(d.update_topic + "/accepted", qos);
        d.client->subscribe(d.update_topic + "/rejected", qos);
    }
    std::fprintf(stderr, "  shadow: %zu clients connected to %s in %.1f s\n", devices.size(), uri.c_str(),
                 micros_since(connecting) / 1e6);
    std::uint64_t held = 0;
    auto send = [&](std::size_t index) {
        auto& d = *devices[index];
        const auto seq = d.next_seq++;
        const std::string payload = "{\"state\":{\"reported\":{\"temperature\":" + std::to_string(seq % 50) +
                                    ",\"seq\":" + std::to_string(seq) + "}},\"clientToken\":\"" +
                                    std::to_string(index) + "-" + std::to_string(seq) + "\"}";
        d.outstanding.fetch_add(1);
        d.sent[seq % kRing] = now_ns();
        d.client->publish(d.update_topic, payload, qos);
    };
    const auto start = Clock::now();
    const auto open = start + std::chrono::seconds(1);  // warm-up: queues and caches settle
    const auto close = open + std::chrono::duration<double>(seconds);
    std::uint64_t i = 0;
    for (auto now = Clock::now(); now < close; now = Clock::now()) {
        run.measuring = now >= open;
        if (rate > 0) {
            std::this_thread::sleep_until(start + std::chrono::duration<double>(static_cast<double>(i) / rate));
            const auto index = static_cast<std::size_t>(i++ % devices.size());
            if (devices[index]->outstanding.load() >= window) ++held;
            else send(index);
            continue;
        }
        bool sent_any = false;
        for (std::size_t d = 0; d < devices.size(); ++d) {
            if (devices[d]->outstanding.load() < window) {
                send(d);
                sent_any = true;
            }
        }
        if (!sent_any) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    run.measuring = false;
    const double elapsed = std::chrono::duration<double>(Clock::now() - open).count();
    for (int wait = 0; wait < 250; ++wait) {  // let the last answers arrive before disconnecting
        bool idle = true;
        for (auto& d : devices) idle = idle && d->outstanding.load() <= 0;
        if (idle) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    devices.clear();  // Paho threads stop before `run` goes away
    Outcome out;
    out.per_s = static_cast<double>(run.answered.load()) / elapsed;
    out.p50_ms = run.samples.percentile(50) / 1000;
    out.p99_ms = run.samples.percentile(99) / 1000;
    out.rejected = run.rejected.load();
    out.held = held;
    return out;
}

}  // namespace

int main(int argc, char** argv) try {
    const auto args = parse_args(argc, argv, 1, {"plain", "broker", "passwords", "prefix", "devices"});
    auto get = [&](const char* key, double fallback) { return args.count(key) ? std::stod(args.at(key)) : fallback; };
    const int count = static_cast<int>(get("devices", 0));
    const int window = static_cast<int>(get("window", 16));
    const double seconds = get("seconds", 5);
    std::vector<double> rates;
    for (std::istringstream list(args.count("rates") ? args.at("rates") : "5000"); !list.eof();) {
        std::string rate;
        std::getline(list, rate, ',');
        rates.push_back(std::stod(rate));
    }
    const int qos = static_cast<int>(get("qos", 1));
    const auto passwords = read_passwords(args.at("passwords"));
    std::vector<Account> gaffer_accounts, plain_accounts;
    for (int i = 0; i < count; ++i) {
        char thing[160];
        std::snprintf(thing, sizeof thing, "%s%05d", args.at("prefix").c_str(), i);
        auto it = passwords.find(thing);
        if (it == passwords.end()) throw std::runtime_error(std::string("no password for device ") + thing);
        gaffer_accounts.push_back(Account{thing, thing, it->second});
        plain_accounts.push_back(Account{thing, "", ""});
    }
    const std::string setup = std::to_string(count) + " devices, window " + std::to_string(window) + ", QoS " +
                              std::to_string(qos);
    Outcome echo_max;
    std::vector<Outcome> echo_rates, rated;
    {
        Echo echo(args.at("plain"), qos);
        echo_max = measure(args.at("plain"), plain_accounts, window, seconds, 0, qos);
        for (double rate : rates) echo_rates.push_back(measure(args.at("plain"), plain_accounts, window, seconds, rate, qos));
    }
    const auto max = measure(args.at("broker"), gaffer_accounts, window, seconds, 0, qos);
    for (double rate : rates) rated.push_back(measure(args.at("broker"), gaffer_accounts, window, seconds, rate, qos));
    report("shadow_echo_max_updates_s", echo_max.per_s, ("answers/s broker + echo client, " + setup).c_str());
    report("shadow_max_updates_s", max.per_s, ("updates/s gafferd, closed loop, " + setup + " (target >= 5000)").c_str());
    report("shadow_max_ratio", echo_max.per_s > 0 ? max.per_s / echo_max.per_s : 0, "x broker + echo");
    report("shadow_max_p99_ms", max.p99_ms, "ms at the closed-loop rate (queueing included)");
    std::uint64_t rejected = max.rejected;
    for (std::size_t k = 0; k < rates.size(); ++k) {
        const std::string r = std::to_string(static_cast<int>(rates[k]));
        const auto& at = rated[k];
        report("shadow_echo_p99_ms_at_" + r, echo_rates[k].p99_ms, "ms broker + echo at this offered rate");
        report("shadow_updates_s_at_" + r, at.per_s, "updates/s answered at this offered rate");
        report("shadow_p50_ms_at_" + r, at.p50_ms, "ms publish -> /update/accepted");
        report("shadow_p99_ms_at_" + r, at.p99_ms, "ms publish -> /update/accepted (target < 5 at 5000)");
        if (at.held) report("shadow_held_at_" + r, static_cast<double>(at.held), "requests not sent: window full");
        rejected += at.rejected;
    }
    report("shadow_rejected", static_cast<double>(rejected), "updates answered /rejected");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_device_shadow: %s\n", e.what());
    return 1;
}
