#include "coordinator/api/detail/metrics_text.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

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

}  // namespace

std::string format_metrics(const MetricsSnapshot& m,
                           const std::map<int, std::uint64_t>& responses_by_code) {
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

    w.family("gaffer_requests_total", "counter", "Local API responses, by HTTP status code.");
    for (const auto& [code, count] : responses_by_code) {
        w.sample("gaffer_requests_total", "code", std::to_string(code), std::to_string(count));
    }
    return w.take();
}

}  // namespace gaffer::api::detail
