// routing_match_bench: nanoseconds (thread CPU time) per RouteTable::match() for a device message, with 10,
// 1,000 and 10,000 routes, over the topics of 10,000 devices. Also grants() and
// subscriptions(). Built by meson, not a test: run it by hand.
#include <time.h>

#include <cstdio>
#include <string>
#include <vector>

#include "devices/routing/routing.hpp"

using namespace gaffer::routing;

namespace {

constexpr int kDevices = 10000;

std::string thing(int i) {
    char name[16];
    std::snprintf(name, sizeof name, "dev-%05d", i);
    return name;
}

// A realistic mix: most routes are one device's telemetry to a task; some are fleet-wide
// wildcards; some device -> device; a few shadow routes.
RouteTable build(int routes) {
    RouteTable table(100000);
    for (int id = 1; id <= routes; ++id) {
        const int device = (id * 7919) % kDevices;
        Route route;
        switch (id % 10) {
        case 0:
            route = make_route("device:" + thing(device), "things/+/alerts/" + std::to_string(id % 50) + "/#",
                               "task:alerts").value();
            break;
        case 1:
            route = make_route("device:" + thing(device), "things/" + thing(device) + "/status",
                               "device:" + thing((device + 1) % kDevices)).value();
            break;
        case 2:
            route = make_route("shadow", "$aws/things/" + thing(device) + "/shadow/update/delta",
                               "device:" + thing(device)).value();
            break;
        default:
            route = make_route("device:" + thing(device), "things/" + thing(device) + "/telemetry/+",
                               "task:ingest-" + std::to_string(id % 20)).value();
        }
        route.id = id;
        if (!table.add(route)) std::fprintf(stderr, "route %d refused\n", id);
    }
    return table;
}

std::vector<std::string> topics() {
    static const char* const kinds[] = {"telemetry/temp", "status", "alerts/3/high", "telemetry/hum"};
    std::vector<std::string> out;
    for (int i = 0; i < kDevices; ++i) out.push_back("things/" + thing(i) + "/" + kinds[i % 4]);
    return out;
}

// This thread's CPU time, not wall time: the figures stay meaningful on a loaded machine.
double cpu_ns() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
}

template <class F>
double ns_per_call(int calls, F&& f) {
    const double start = cpu_ns();
    for (int i = 0; i < calls; ++i) f(i);
    return (cpu_ns() - start) / calls;
}

}  // namespace

int main() {
    const auto all_topics = topics();
    const Endpoint any_device{Endpoint::Kind::device, ""};
    std::printf("%8s %14s %14s %16s %18s\n", "routes", "ns/match", "matches/topic", "ns/grants(thing)",
                "us/subscriptions()");
    for (int routes : {10, 1000, 10000}) {
        RouteTable table = build(routes);
        std::vector<const Route*> out;
        std::size_t found = 0;
        constexpr int kPasses = 20;
        const int calls = kPasses * kDevices;
        ns_per_call(kDevices, [&](int i) { table.match(any_device, all_topics[i], out); });  // warm up
        const double match_ns = ns_per_call(calls, [&](int i) {
            table.match(any_device, all_topics[static_cast<std::size_t>(i % kDevices)], out);
            found += out.size();
        });
        std::size_t granted = 0;
        const double grants_ns = ns_per_call(kDevices, [&](int i) {
            granted += table.grants(thing(i)).publish.size();
        });
        std::size_t subscribed = 0;
        const double subscriptions_ns = ns_per_call(10, [&](int) { subscribed = table.subscriptions().size(); });
        std::printf("%8d %14.1f %14.2f %16.1f %18.1f\n", routes, match_ns,
                    static_cast<double>(found) / calls, grants_ns, subscriptions_ns / 1000.0);
        if (granted == 0 && subscribed == 0 && routes > 10) std::printf("(no grants?)\n");
    }
    return 0;
}
