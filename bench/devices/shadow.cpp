// Shadow updates over MQTT (issue #3, benchmark 2): sustained updates per second and the
// latency from publishing `$aws/things/T/shadow/update` to receiving its
// `/update/accepted`, against the real gafferd and mosquitto.
//
// K devices, each its own thing and its own connection (client id = thing name), pipeline
// their requests: up to `window` of a device's updates wait for an answer at once. Every
// update changes the reported state (so each is a real SQLite write, group-committed) and
// carries a clientToken "<run>-<device>-<seq>" by which its answer is matched and timed (a
// late answer to an earlier measurement, on the same topic, is told apart by <run>).
//
// The generator is one thread speaking MQTT itself over non-blocking sockets (wire.hpp), so
// that on a small machine it takes as little as possible from the broker and gafferd.
//
// The baseline, in the same run: the same K clients and the same requests on a plain
// mosquitto, answered by an echo client (one MQTT client that republishes each request on
// its /update/accepted topic at the same QoS): what the broker and the generator alone
// cost. Each side runs closed-loop (as fast as the windows allow) and open-loop at each of
// `rates` (requests/s offered); p50/p99 are reported at each offered rate. Open-loop
// latencies count from the moment a request was due, so a generator that falls behind
// shows as latency rather than hiding it.
//
//   bench_device_shadow plain=URI broker=URI passwords=FILE prefix=P devices=K
//                       [window=16 seconds=5 rates=5000,1000 qos=1 baseline=1]
// baseline=0 skips the plain broker's measurements (to profile gafferd alone).
#include <sys/epoll.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <memory>
#include <sstream>
#include <thread>

#include "bench/bench_stats.hpp"
#include "bench/devices/api.hpp"
#include "bench/devices/wire.hpp"

using namespace gaffer::bench;
using namespace gaffer::bench::devices;

namespace {

constexpr std::size_t kRing = 1 << 14;  // > window: a device's send times by seq % kRing

std::int64_t ns(Clock::time_point at) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
}

// The three numbers of a clientToken "<run>-<device>-<seq>" in an answer, if it has one.
std::optional<std::array<std::uint64_t, 3>> token_numbers(std::string_view payload) {
    constexpr std::string_view key = "\"clientToken\":\"";
    const auto at = payload.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    std::array<std::uint64_t, 3> numbers{};
    std::size_t part = 0;
    for (std::size_t i = at + key.size(); i < payload.size() && payload[i] != '"'; ++i) {
        if (payload[i] == '-') {
            if (++part == numbers.size()) return std::nullopt;
        } else if (payload[i] >= '0' && payload[i] <= '9') {
            numbers[part] = numbers[part] * 10 + static_cast<std::uint64_t>(payload[i] - '0');
        } else {
            return std::nullopt;
        }
    }
    if (part != 2) return std::nullopt;
    return numbers;
}

struct Device {
    std::string update_topic;
    std::unique_ptr<WireConnection> wire;
    std::vector<std::int64_t> sent = std::vector<std::int64_t>(kRing);  // ns, by seq % kRing
    int outstanding = 0;
    std::uint64_t next_seq = 0;
    bool watching_writes = false;
};

// Echoes each shadow update request on its /update/accepted topic, on its own thread.
// check() rethrows what stopped the thread, so a broken baseline is an error, not 0/s.
class Echo {
public:
    Echo(const std::string& uri, int qos) : qos_(qos), wire_(uri, Account{"bench-shadow-echo", "", ""}) {
        wire_.subscribe("$aws/things/+/shadow/update", qos);
        wire_.go_non_blocking();
        thread_ = std::thread([this] {
            try {
                loop();
            } catch (...) {
                failure_ = std::current_exception();
            }
            failed_ = !stop_.load();
        });
    }
    ~Echo() {
        stop_ = true;
        thread_.join();
    }
    void check() const {
        if (!failed_.load()) return;
        if (failure_) std::rethrow_exception(failure_);
        throw std::runtime_error("the plain broker closed the echo client's connection");
    }

private:
    void loop() {
        std::string topic;
        while (!stop_.load()) {
            pollfd p{wire_.fd(), static_cast<short>(POLLIN | (wire_.wants_write() ? POLLOUT : 0)), 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            if (p.revents & POLLOUT) wire_.flush();
            if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const bool open = wire_.read([&](const WirePacket& packet) {
                if (packet.type != kWirePublish) return;  // PUBACKs of the echoes
                const auto request = WireConnection::parse_publish(packet);
                if (request.qos > 0) wire_.puback(request.packet_id);
                topic.assign(request.topic).append("/accepted");
                wire_.publish(topic, request.payload, qos_);
            });
            if (!open) return;
        }
    }

    int qos_;
    WireConnection wire_;
    std::atomic<bool> stop_{false}, failed_{false};
    std::exception_ptr failure_;  // written before failed_
    std::thread thread_;
};

struct Outcome {
    double per_s = 0, p50_ms = 0, p99_ms = 0;  // per_s: accepted updates
    std::uint64_t rejected = 0, held = 0, unanswered = 0;
};

// One measurement: connects K devices, runs for 1 s of warm-up and `seconds` of measuring,
// waits (up to 5 s) for the last answers and disconnects.
class Measurement {
public:
    Measurement(const std::string& uri, const std::vector<Account>& accounts, int window, int qos)
        : window_(window), qos_(qos), epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
        static std::uint64_t runs = 0;
        run_id_ = ++runs;
        if (!epoll_) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
        const auto connecting = Clock::now();
        for (std::size_t i = 0; i < accounts.size(); ++i) {
            auto d = std::make_unique<Device>();
            d->update_topic = "$aws/things/" + accounts[i].client_id + "/shadow/update";
            d->wire = std::make_unique<WireConnection>(uri, accounts[i]);
            d->wire->subscribe(d->update_topic + "/accepted", qos);
            d->wire->subscribe(d->update_topic + "/rejected", qos);
            d->wire->go_non_blocking();
            epoll_event event{EPOLLIN, {.u64 = i}};
            if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, d->wire->fd(), &event) != 0)
                throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
            devices_.push_back(std::move(d));
        }
        std::fprintf(stderr, "  shadow: %zu clients connected to %s in %.1f s\n", devices_.size(), uri.c_str(),
                     micros_since(connecting) / 1e6);
    }

    // rate 0: closed loop. Otherwise request i is due at start + i/rate, for device i % K;
    // when that device already has `window` requests unanswered it is skipped (counted as held).
    Outcome run(double seconds, double rate) {
        const auto start = Clock::now();
        const auto open = start + std::chrono::seconds(1);  // warm-up: queues and caches settle
        const auto close = open + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
        std::uint64_t due = 0;
        auto due_at = [&](std::uint64_t i) {
            return start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(static_cast<double>(i) / rate));
        };
        for (auto now = Clock::now(); now < close; now = Clock::now()) {
            measuring_ = now >= open;
            auto wake = close;
            if (rate > 0) {
                for (auto at = due_at(due); at <= now; at = due_at(++due)) {
                    const std::size_t index = due % devices_.size();
                    if (devices_[index]->outstanding >= window_) ++held_;
                    else send(index, ns(at));
                }
                wake = std::min(wake, due_at(due));
            } else {
                for (std::size_t i = 0; i < devices_.size(); ++i)
                    while (devices_[i]->outstanding < window_) send(i, ns(Clock::now()));
            }
            wait(wake);
        }
        measuring_ = false;
        const double elapsed = std::chrono::duration<double>(Clock::now() - open).count();
        const auto give_up = Clock::now() + std::chrono::seconds(5);
        while (Clock::now() < give_up && outstanding()) wait(Clock::now() + std::chrono::milliseconds(20));
        Outcome out;
        out.per_s = static_cast<double>(accepted_) / elapsed;
        out.p50_ms = samples_.percentile(50) / 1000;
        out.p99_ms = samples_.percentile(99) / 1000;
        out.rejected = rejected_;
        out.held = held_;
        for (const auto& d : devices_) out.unanswered += static_cast<std::uint64_t>(std::max(d->outstanding, 0));
        return out;
    }

private:
    void send(std::size_t index, std::int64_t since_ns) {
        auto& d = *devices_[index];
        const auto seq = d.next_seq++;
        payload_.assign("{\"state\":{\"reported\":{\"temperature\":");
        payload_.append(std::to_string(seq % 50)).append(",\"seq\":").append(std::to_string(seq));
        payload_.append("}},\"clientToken\":\"").append(std::to_string(run_id_)).append("-");
        payload_.append(std::to_string(index)).append("-").append(std::to_string(seq)).append("\"}");
        ++d.outstanding;
        d.sent[seq % kRing] = since_ns;
        d.wire->publish(d.update_topic, payload_, qos_);
        watch_writes(index);
    }

    void watch_writes(std::size_t index) {
        auto& d = *devices_[index];
        if (d.wire->wants_write() == d.watching_writes) return;
        d.watching_writes = !d.watching_writes;
        epoll_event event{EPOLLIN | (d.watching_writes ? EPOLLOUT : 0u), {.u64 = index}};
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, d.wire->fd(), &event);
    }

    void wait(Clock::time_point until) {
        const auto left = std::max<std::int64_t>(
            0, std::chrono::duration_cast<std::chrono::nanoseconds>(until - Clock::now()).count());
        const timespec timeout{left / 1000000000, left % 1000000000};
        epoll_event events[64];
        const int n = ::epoll_pwait2(epoll_.get(), events, 64, &timeout, nullptr);
        if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("epoll_pwait2: ") + std::strerror(errno));
        for (int k = 0; k < n; ++k) {
            const auto index = static_cast<std::size_t>(events[k].data.u64);
            auto& wire = *devices_[index]->wire;
            if (events[k].events & EPOLLOUT) wire.flush();
            if (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                const bool open = wire.read([&](const WirePacket& packet) {
                    if (packet.type == kWirePublish) on_answer(wire, WireConnection::parse_publish(packet));
                });
                if (!open) throw std::runtime_error("the broker closed a device's connection");
            }
            watch_writes(index);
        }
    }

    void on_answer(WireConnection& wire, const WirePublish& answer) {
        if (answer.qos > 0) wire.puback(answer.packet_id);
        const auto token = token_numbers(answer.payload);
        if (!token || (*token)[0] != run_id_ || (*token)[1] >= devices_.size()) return;
        auto& d = *devices_[(*token)[1]];
        --d.outstanding;
        if (!measuring_) return;
        if (answer.topic.ends_with("/rejected")) ++rejected_;
        else ++accepted_;
        samples_.values.push_back(static_cast<double>(ns(Clock::now()) - d.sent[(*token)[2] % kRing]) / 1000);
    }

    bool outstanding() const {
        for (const auto& d : devices_)
            if (d->outstanding > 0) return true;
        return false;
    }

    int window_, qos_;
    gaffer::base::Fd epoll_;
    std::uint64_t run_id_ = 0;
    std::vector<std::unique_ptr<Device>> devices_;
    std::string payload_;
    bool measuring_ = false;
    std::uint64_t accepted_ = 0, rejected_ = 0, held_ = 0;
    Samples samples_;  // latencies (µs) of answers received while measuring
};

Outcome measure(const std::string& uri, const std::vector<Account>& accounts, int window, double seconds,
                double rate, int qos) {
    return Measurement(uri, accounts, window, qos).run(seconds, rate);
}

}  // namespace

int main(int argc, char** argv) try {
    const auto args = parse_args(argc, argv, 1, {"plain", "broker", "passwords", "prefix", "devices"});
    auto get = [&](const char* key, double fallback) { return args.count(key) ? std::stod(args.at(key)) : fallback; };
    const int count = static_cast<int>(get("devices", 0));
    const int window = static_cast<int>(get("window", 16));
    if (window < 1 || static_cast<std::size_t>(window) >= kRing)
        throw std::runtime_error("window must be 1.." + std::to_string(kRing - 1));
    const double seconds = get("seconds", 5);
    std::vector<double> rates;
    for (std::istringstream list(args.count("rates") ? args.at("rates") : "5000"); !list.eof();) {
        std::string rate;
        std::getline(list, rate, ',');
        if (!rate.empty()) rates.push_back(std::stod(rate));
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
    std::vector<Outcome> echo_rates(rates.size()), rated;
    if (get("baseline", 1) != 0) {
        echo_rates.clear();
        Echo echo(args.at("plain"), qos);
        echo_max = measure(args.at("plain"), plain_accounts, window, seconds, 0, qos);
        echo.check();
        for (double rate : rates) {
            echo_rates.push_back(measure(args.at("plain"), plain_accounts, window, seconds, rate, qos));
            echo.check();
        }
    }
    const auto max = measure(args.at("broker"), gaffer_accounts, window, seconds, 0, qos);
    for (double rate : rates) rated.push_back(measure(args.at("broker"), gaffer_accounts, window, seconds, rate, qos));
    report("shadow_echo_max_updates_s", echo_max.per_s, ("answers/s broker + echo client, " + setup).c_str());
    report("shadow_max_updates_s", max.per_s, ("updates/s gafferd, closed loop, " + setup + " (target >= 5000)").c_str());
    report("shadow_max_ratio", echo_max.per_s > 0 ? max.per_s / echo_max.per_s : 0, "x broker + echo");
    report("shadow_max_p99_ms", max.p99_ms, "ms at the closed-loop rate (queueing included)");
    std::uint64_t rejected = max.rejected, unanswered = max.unanswered;
    for (std::size_t k = 0; k < rates.size(); ++k) {
        const std::string r = std::to_string(static_cast<int>(rates[k]));
        const auto& at = rated[k];
        report("shadow_echo_p99_ms_at_" + r, echo_rates[k].p99_ms, "ms broker + echo at this offered rate");
        report("shadow_updates_s_at_" + r, at.per_s, "updates/s answered at this offered rate");
        report("shadow_p50_ms_at_" + r, at.p50_ms, "ms publish -> /update/accepted");
        report("shadow_p99_ms_at_" + r, at.p99_ms, "ms publish -> /update/accepted (target < 5 at 5000)");
        if (at.held) report("shadow_held_at_" + r, static_cast<double>(at.held), "requests not sent: window full");
        rejected += at.rejected;
        unanswered += at.unanswered;
    }
    report("shadow_rejected", static_cast<double>(rejected), "updates answered /rejected");
    report("shadow_unanswered", static_cast<double>(unanswered), "updates without an answer 5 s after the last was sent");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_device_shadow: %s\n", e.what());
    return 1;
}
