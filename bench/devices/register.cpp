// Registry operations through gafferd's local API (issue #3, benchmark 3).
//
//   bench_device_register devices socket=API passwords=FILE prefix=P from=A to=B
//                         [parallel=N label=L]
//     registers devices P<A>..P<B-1> (5-digit numbers), N requests in flight (one API
//     connection and thread each), and appends "thing<TAB>password" lines to FILE. An add
//     answers when the broker has run its dynamic-security commands; 429 (gafferd's own
//     bound on dynsec batches in flight) is retried after 2 ms and counted in the latency.
//     Prints the add rate and the p50/p99 latency of one add, labelled L.
//   bench_device_register routes socket=API file=ROUTES
//     adds the routes of ROUTES, one "source filter target" line each (409 = already there).
#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bench/bench_stats.hpp"
#include "bench/devices/api.hpp"

using namespace gaffer::bench;
using namespace gaffer::bench::devices;

namespace {

std::string thing_name(const std::string& prefix, int n) {
    char digits[16];
    std::snprintf(digits, sizeof digits, "%05d", n);
    return prefix + digits;
}

int run_devices(const std::map<std::string, std::string>& args) {
    const std::string prefix = args.at("prefix");
    const int from = std::stoi(args.at("from")), to = std::stoi(args.at("to"));
    const int parallel = args.count("parallel") ? std::stoi(args.at("parallel")) : 8;
    const std::string label = args.count("label") ? args.at("label") : std::to_string(to);
    std::ofstream passwords(args.at("passwords"), std::ios::app);
    if (!passwords) throw std::runtime_error("cannot append to " + args.at("passwords"));

    std::atomic<int> next{from};
    std::atomic<int> pending{0}, retries{0}, failures{0};
    std::mutex mutex;  // passwords, samples, first_error
    Samples samples;
    std::string first_error;
    auto worker = [&] {
        ApiConnection api(args.at("socket"));
        for (int n = next++; n < to; n = next++) {
            const std::string thing = thing_name(prefix, n);
            const std::string body = nlohmann::json{{"thing", thing}}.dump();
            const auto start = Clock::now();
            auto response = api.request("POST", "/v1/devices", body);
            while (response.status == 429) {
                ++retries;
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
                response = api.request("POST", "/v1/devices", body);
            }
            const double micros = micros_since(start);
            std::lock_guard lock(mutex);
            if (response.status != 201) {
                ++failures;
                if (first_error.empty()) first_error = thing + ": " + std::to_string(response.status) + " " + response.body;
                continue;
            }
            auto answer = nlohmann::json::parse(response.body);
            if (answer["device"]["credentials"] != "active") ++pending;
            passwords << thing << '\t' << answer["credentials"]["password"].get<std::string>() << '\n';
            samples.values.push_back(micros);
        }
    };
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < parallel; ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    const double seconds = micros_since(start) / 1e6;
    passwords.flush();
    if (failures > 0) {
        std::fprintf(stderr, "bench_device_register: %d adds failed, the first: %s\n", failures.load(), first_error.c_str());
        return 1;
    }
    const int added = to - from;
    report("registry_add_s_" + label, added / seconds, ("adds/s, " + std::to_string(parallel) + " in parallel").c_str());
    report("registry_add_p50_ms_" + label, samples.percentile(50) / 1000, "ms one add (API -> broker -> answer)");
    report("registry_add_p99_ms_" + label, samples.percentile(99) / 1000, "ms one add");
    std::fprintf(stderr, "  added %d devices in %.1f s (%d retried on 429, %d pending)\n", added, seconds,
                 retries.load(), pending.load());
    if (pending > 0) {
        std::fprintf(stderr, "bench_device_register: %d devices are pending (not on the broker)\n", pending.load());
        return 1;
    }
    return 0;
}

int run_routes(const std::map<std::string, std::string>& args) {
    std::ifstream file(args.at("file"));
    if (!file) throw std::runtime_error("cannot read " + args.at("file"));
    ApiConnection api(args.at("socket"));
    std::string line;
    int added = 0;
    const auto start = Clock::now();
    while (std::getline(file, line)) {
        std::istringstream fields(line);
        std::string source, filter, target;
        if (!(fields >> source >> filter >> target)) continue;
        const auto body = nlohmann::json{{"source", source}, {"filter", filter}, {"target", target}}.dump();
        auto response = api.request("POST", "/v1/routes", body);
        if (response.status == 409) continue;
        if (response.status != 201)
            throw std::runtime_error("route " + line + ": " + std::to_string(response.status) + " " + response.body);
        ++added;
    }
    std::fprintf(stderr, "  added %d routes in %.1f s\n", added, micros_since(start) / 1e6);
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "devices")
        return run_devices(parse_args(argc, argv, 2, {"socket", "passwords", "prefix", "from", "to"}));
    if (mode == "routes") return run_routes(parse_args(argc, argv, 2, {"socket", "file"}));
    std::fprintf(stderr, "usage: bench_device_register devices|routes name=value...\n");
    return 2;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_device_register: %s\n", e.what());
    return 1;
}
