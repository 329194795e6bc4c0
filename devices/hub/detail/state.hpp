// The hub's state, shared by its .cpp files (private to devices/hub).
#pragma once

#include <deque>
#include <set>

#include "devices/hub/hub.hpp"

namespace gaffer::hub {

// A message that waits for the next batch.
struct Inbound {
    mqtt::Message message;
    std::optional<shadow::Request> shadow;  // set when it is a shadow request
    Hub::Verdict verdict;                   // set when it came from the ingest plugin
};

// A message to publish once its batch has committed. Durable ones (seq != 0) are in the
// outbox already and go out through flush_outbox(); the others (shadow answers) go out
// directly and are dropped, counted, when the broker is away.
struct Outgoing {
    mqtt::Message message;
    bool durable = false;
};

// Counter names, as api::DeviceMetrics documents them.
namespace metric {
inline constexpr const char* received = "gaffer_mqtt_messages_received_total";
inline constexpr const char* routed = "gaffer_mqtt_messages_routed_total";
inline constexpr const char* published = "gaffer_mqtt_messages_published_total";
inline constexpr const char* reconnects = "gaffer_mqtt_connects_total";
inline constexpr const char* unrouted = "gaffer_mqtt_messages_unrouted_total";
inline constexpr const char* dropped = "gaffer_mqtt_publications_dropped_total";
inline constexpr const char* ingested_copies = "gaffer_mqtt_messages_ingested_copies_total";
inline std::string ingested(std::string_view result) {
    return "gaffer_mqtt_messages_ingested_total{result=" + std::string(result) + "}";
}
inline std::string refused(std::string_view reason) {
    return "gaffer_mqtt_messages_refused_total{reason=" + std::string(reason) + "}";
}
inline std::string shadow_requests(std::string_view result) {
    return "gaffer_devices_shadow_requests_total{result=" + std::string(result) + "}";
}
}  // namespace metric

struct Hub::State {
    State(Ports p, Options o);

    Ports ports;
    Options options;
    routing::RouteTable routes;
    shadow::Service shadows;
    registry::DynsecAdmin admin;
    registry::Registry registry;

    bool stopping = false;
    std::vector<Inbound> pending;          // waiting for the next batch
    std::deque<Inbound> waiting_shadows;   // shadow requests waiting for room for their answers
    std::size_t waiting_shadow_bytes = 0;
    std::size_t answers_in_flight = 0;     // publish()ed outside the outbox, not yet completed
    bool drain_scheduled = false;
    std::set<std::int64_t> outbox_in_flight;
    bool outbox_flushing = false;
    std::uint64_t outbox_acks = 0;
    std::map<std::string, std::uint64_t> counters;
    std::vector<const routing::Route*> matched;  // reused by every match
    std::function<void(const routing::RouteTable&)> routes_changed;
    void announce_routes() {
        if (routes_changed) routes_changed(routes);
    }
    void refuse_waiting(const std::string& why);  // every queued message, at stop
    void schedule_drain() {
        if (drain_scheduled) return;
        drain_scheduled = true;
        ports.defer([this] { drain(); });
    }

    void count(const std::string& name, std::uint64_t n = 1) { counters[name] += n; }
    void log(base::LogLevel level, std::string_view message) const {
        if (ports.log) ports.log(level, message);
    }
    // Refused messages can come by the thousand a second (a full queue): at most one line
    // a second says so, with how many it stands for; the counters have them all.
    base::TimePoint refusals_logged_at{};
    std::uint64_t refusals_unlogged = 0;
    void log_refusal(std::string_view message) {
        const auto now = ports.clock.now();
        if (refusals_logged_at != base::TimePoint{} && now - refusals_logged_at < std::chrono::seconds(1)) {
            ++refusals_unlogged;
            return;
        }
        std::string line(message);
        if (refusals_unlogged)
            line += " (and " + std::to_string(refusals_unlogged) + " more refusals in the last second)";
        log(base::LogLevel::warning, line);
        refusals_logged_at = now;
        refusals_unlogged = 0;
    }
    void log_problem(std::string_view what, const base::Error& error) const {
        log(base::LogLevel::warning, std::string(what) + ": " + error.message);
    }

    // hub.cpp
    void on_connection(bool connected, const std::string& reason);
    void on_message(mqtt::Message message);
    // Sends each thing's grants to the registry; `applied` runs (deferred) after the last
    // answer.
    void push_grants(const std::vector<std::string>& things, std::function<void()> applied = {});

    // inbound.cpp: the batch of messages from the broker.
    void drain();

    // delivery.cpp: where a message goes. `out` collects what to publish once the batch
    // that made it has committed.
    struct Delivery {
        std::size_t routes = 0;                  // routes the message took
        std::optional<base::Error> first_error;  // of a delivery that failed
    };
    // Delivers `message` from `source` to the targets of its routes: task invocations,
    // shadow requests (from tasks), the broker (from tasks to devices).
    Delivery deliver(const routing::Endpoint& source, const mqtt::Message& message,
                     std::vector<Outgoing>& out);
    // Queues the shadow service's publications and delivers them on the routes from shadow.
    void announce(std::vector<shadow::Publication>& publications, std::vector<Outgoing>& out);

    // outbound.cpp: what gafferd publishes on the broker.
    void publish(std::vector<Outgoing>& out);  // after the batch committed
    void flush_outbox();
};

}  // namespace gaffer::hub
