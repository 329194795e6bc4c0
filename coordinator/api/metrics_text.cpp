#include "coordinator/api/detail/metrics_text.hpp"

#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace gaffer::api::detail {
namespace {

// Prometheus floats: shortest round-trip form, and its own spellings for the specials.
std::string number(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    return ec == std::errc{} ? std::string(buf, end) : "NaN";
}

// Label values escape backslash, double quote and line feed (format 0.0.4).
std::string label_value(std::string_view value) {
    std::string out;
    for (const char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out.push_back(c);
    }
    return out;
}

class Writer {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }
    void sample(std::string_view name, std::string_view label, std::string_view value_of_label,
                const std::string& value) {
        out_ += name;
        if (!label.empty()) {
            out_ += '{';
            out_ += label;
            out_ += "=\"";
            out_ += label_value(value_of_label);
            out_ += "\"}";
        }
        out_ += ' ';
        out_ += value;
        out_ += '\n';
    }
    void sample(std::string_view name, std::uint64_t value) {
        sample(name, {}, {}, std::to_string(value));
    }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

struct KnownFamily {
    std::string_view name;
    bool labelled;
    std::string_view help;
};

constexpr KnownFamily kDeviceFamilies[] = {
    {"gaffer_mqtt_connected", false, "1 while gafferd is connected to the local MQTT broker, else 0."},
    {"gaffer_mqtt_messages_received_total", false, "MQTT messages gafferd received from the broker."},
    {"gaffer_mqtt_messages_routed_total", false, "MQTT messages delivered to a route's target."},
    {"gaffer_mqtt_messages_refused_total", true, "MQTT messages not delivered, by reason."},
    {"gaffer_mqtt_outbox_queued", false, "Publications and broker commands waiting in the outbox."},
    {"gaffer_mqtt_messages_published_total", false, "MQTT messages gafferd published."},
    {"gaffer_mqtt_messages_unrouted_total", false, "MQTT messages received that no route matched."},
    {"gaffer_mqtt_publications_dropped_total", false,
     "Non-durable publications (shadow answers) dropped while the broker was away."},
    {"gaffer_mqtt_messages_ingested_total", true,
     "QoS 1 device messages the broker's ingest plugin handed over before acknowledging them, by verdict."},
    {"gaffer_mqtt_messages_ingested_copies_total", false,
     "Copies of ingested messages that arrived again through the subscription, and were skipped."},
    {"gaffer_mqtt_connects_total", false, "Connections gafferd made to the broker, reconnects included."},
    {"gaffer_mqtt_routes", false, "Message routes in the routing table."},
    {"gaffer_devices", false, "Registered devices."},
    {"gaffer_devices_connected", false, "Registered devices connected to the broker now."},
    {"gaffer_devices_shadow_requests_total", true, "Shadow requests handled, by result."},
};

struct Series {
    std::string label;  // empty: unlabelled
    std::string value;
    std::uint64_t count = 0;
};

bool all_of(std::string_view text, bool (*ok)(char)) {
    if (text.empty()) return false;
    for (const char c : text) {
        if (!ok(c)) return false;
    }
    return true;
}

bool family_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }
bool label_char(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
bool value_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '-';
}

bool device_family(std::string_view name) {
    const bool prefixed = (name.rfind("gaffer_mqtt_", 0) == 0 && name.size() > 12) ||
                          name == "gaffer_devices" || (name.rfind("gaffer_devices_", 0) == 0 && name.size() > 15);
    return prefixed && all_of(name, family_char);
}

// "family" or "family{label=value}" (DeviceMetrics in api.hpp); nullopt when malformed.
std::optional<std::pair<std::string, Series>> parse_device_key(std::string_view key, std::uint64_t count) {
    const std::size_t brace = key.find('{');
    const std::string_view family = key.substr(0, brace);
    if (!device_family(family)) return std::nullopt;
    Series series;
    series.count = count;
    if (brace != std::string_view::npos) {
        if (key.back() != '}') return std::nullopt;
        const std::string_view inside = key.substr(brace + 1, key.size() - brace - 2);
        const std::size_t eq = inside.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        series.label = std::string(inside.substr(0, eq));
        series.value = std::string(inside.substr(eq + 1));
        if (!all_of(series.label, label_char) || !all_of(series.value, value_char)) return std::nullopt;
    }
    return std::make_pair(std::string(family), std::move(series));
}

void write_device_metrics(Writer& w, const DeviceMetrics& samples) {
    std::map<std::string, std::vector<Series>> families;
    for (const auto& known : kDeviceFamilies) families[std::string(known.name)];
    for (const auto& [key, count] : samples) {
        if (auto parsed = parse_device_key(key, count)) families[parsed->first].push_back(std::move(parsed->second));
    }
    for (auto& [family, series] : families) {
        std::string help = "Device subsystem metric " + family + ".";
        bool labelled = false;
        for (const auto& known : kDeviceFamilies) {
            if (known.name == family) help = std::string(known.help), labelled = known.labelled;
        }
        // Unlabelled known series start at 0 so rate() sees them from the first scrape.
        if (series.empty() && !labelled) series.push_back({});
        if (series.empty()) continue;
        const bool counter = family.size() > 6 && family.compare(family.size() - 6, 6, "_total") == 0;
        w.family(family, counter ? "counter" : "gauge", help);
        for (const auto& s : series) w.sample(family, s.label, s.value, std::to_string(s.count));
    }
}

}  // namespace

std::string format_metrics(const MetricsSnapshot& m,
                           const std::map<int, std::uint64_t>& responses_by_code,
                           const DeviceMetrics* devices) {
    Writer w;

    // Every known status appears, zero or not, so rate() queries see the series from
    // the start; statuses the backend reports beyond those are kept too.
    std::map<std::string, std::uint64_t> by_status;
    for (int s = 0; s <= static_cast<int>(InvocationStatus::cancelled); ++s) {
        by_status[std::string(status_name(static_cast<InvocationStatus>(s)))] = 0;
    }
    for (const auto& [status, count] : m.invocations_by_status) by_status[status] = count;
    w.family("gaffer_invocations_total", "counter", "Invocations that ended, by outcome status.");
    for (const auto& [status, count] : by_status) {
        w.sample("gaffer_invocations_total", "status", status, std::to_string(count));
    }

    constexpr std::string_view hist = "gaffer_invocation_duration_seconds";
    w.family(hist, "histogram", "Time from accepting an invocation to its outcome.");
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < m.bucket_bounds.size(); ++i) {
        if (i < m.bucket_counts.size()) cumulative += m.bucket_counts[i];
        w.sample("gaffer_invocation_duration_seconds_bucket", "le", number(m.bucket_bounds[i]),
                 std::to_string(cumulative));
    }
    // +Inf must equal _count; counts beyond the bounds all land in it.
    for (std::size_t i = m.bucket_bounds.size(); i < m.bucket_counts.size(); ++i) {
        cumulative += m.bucket_counts[i];
    }
    w.sample("gaffer_invocation_duration_seconds_bucket", "le", "+Inf", std::to_string(cumulative));
    w.sample("gaffer_invocation_duration_seconds_sum", {}, {}, number(m.duration_sum));
    w.sample("gaffer_invocation_duration_seconds_count", m.duration_count);

    w.family("gaffer_queue_rejections_total", "counter",
             "Invocations refused because the queue was full.");
    w.sample("gaffer_queue_rejections_total", m.queue_rejections);
    w.family("gaffer_environments", "gauge", "Execution environments alive now.");
    w.sample("gaffer_environments", m.environments);
    w.family("gaffer_environments_started_total", "counter", "Execution environments started.");
    w.sample("gaffer_environments_started_total", m.environments_started);
    w.family("gaffer_tasks", "gauge", "Tasks installed now.");
    w.sample("gaffer_tasks", m.tasks);

    if (devices != nullptr) write_device_metrics(w, *devices);

    w.family("gaffer_requests_total", "counter", "Local API responses, by HTTP status code.");
    for (const auto& [code, count] : responses_by_code) {
        w.sample("gaffer_requests_total", "code", std::to_string(code), std::to_string(count));
    }
    return w.take();
}

}  // namespace gaffer::api::detail
