// A steady flow of QoS 0 messages from one publisher, measured where it is consumed: the
// shared measuring loop of the routing-throughput benchmark.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench/devices/client.hpp"

namespace gaffer::bench::devices {

struct Flow {
    double delivered_per_s = 0;  // at the consumer, in the measuring window
    double sent_per_s = 0;       // handed to the publisher's Paho client, same window
};

// Publishes `payload` on `topic` as fast as `publisher` takes it. After `warmup` seconds
// (queues fill, the broker reaches its steady state) `consumed()` and the publisher's count
// are read, then again `seconds` later. The publisher stops, and the function returns when
// `consumed()` has not moved for `settle` seconds (at most 30 s), so the next flow starts
// on empty queues.
template <typename Publisher>
Flow measure_flow(Publisher& publisher, const std::string& topic, const std::string& payload,
                         double warmup, double seconds, const std::function<double()>& consumed,
                         double settle = 0.3) {
    using Clock = std::chrono::steady_clock;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> sent{0};
    std::thread generator([&] {
        while (!stop.load(std::memory_order_relaxed)) {
            if (publisher.publish(topic, payload, 0)) sent.fetch_add(1, std::memory_order_relaxed);
        }
    });
    std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
    const auto t0 = Clock::now();
    const double c0 = consumed();
    const auto s0 = sent.load();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    const double c1 = consumed();
    const auto s1 = sent.load();
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    stop = true;
    generator.join();
    publisher.drain();
    double last = consumed();
    auto still_since = Clock::now();
    const auto give_up = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < give_up &&
           std::chrono::duration<double>(Clock::now() - still_since).count() < settle) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        const double now = consumed();
        if (now != last) {
            last = now;
            still_since = Clock::now();
        }
    }
    return Flow{(c1 - c0) / elapsed, static_cast<double>(s1 - s0) / elapsed};
}

inline double median(std::vector<double> values) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// A JSON payload of exactly `bytes` bytes (at least 12): {"v":"xxx…"}.
inline std::string json_payload(std::size_t bytes) {
    bytes = std::max<std::size_t>(bytes, 12);
    return "{\"v\":\"" + std::string(bytes - 8, 'x') + "\"}";
}

}  // namespace gaffer::bench::devices
