#include "coordinator/cli/detail/device_text.hpp"

#include <ctime>
#include <set>

#include "coordinator/cli/cli.hpp"

namespace gaffer::cli::detail {
namespace {

using nlohmann::json;

std::string str(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return "-";
    return it->is_string() ? it->get<std::string>() : it->dump();
}

std::int64_t ms(const json& obj, const char* key) {
    auto it = obj.find(key);
    return it != obj.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

bool flag(const json& obj, const char* key) {
    auto it = obj.find(key);
    return it != obj.end() && it->is_boolean() && it->get<bool>();
}

// A list of strings as "a, b"; "" in a shadow list is the classic shadow.
std::string joined(const json& obj, const char* key, bool shadows) {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_array() || it->empty()) return "-";
    std::string out;
    for (const auto& v : *it) {
        if (!out.empty()) out += ", ";
        std::string item = v.is_string() ? v.get<std::string>() : v.dump();
        out += shadows && item.empty() ? "(classic)" : item;
    }
    return out;
}

std::string aligned(const std::vector<std::pair<std::string, std::string>>& lines) {
    std::size_t width = 0;
    for (const auto& [key, value] : lines) width = std::max(width, key.size());
    std::string out;
    for (const auto& [key, value] : lines) {
        out += key + ":" + std::string(width - key.size() + 1, ' ') + value + '\n';
    }
    return out;
}

std::string presence(const json& device) {
    const std::int64_t since = ms(device, "presence_changed_at_ms");
    if (flag(device, "connected")) return "yes (since " + format_time_ms(since) + ")";
    if (since <= 0) return "no (never connected)";
    return "no (since " + format_time_ms(since) + ")";
}

}  // namespace

std::string format_time_ms(std::int64_t ms_since_epoch) {
    if (ms_since_epoch <= 0) return "-";
    const std::time_t seconds = static_cast<std::time_t>(ms_since_epoch / 1000);
    std::tm tm{};
    if (::gmtime_r(&seconds, &tm) == nullptr) return "-";
    char buf[32];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return n == 0 ? std::string("-") : std::string(buf, n);
}

std::string format_credentials(const json& c) {
    return aligned({{"thing", str(c, "thing")},
                    {"username", str(c, "username")},
                    {"client id", str(c, "client_id")},
                    {"password", str(c, "password")},
                    {"broker", str(c, "broker")}}) +
           std::string(kPasswordNotStored) + '\n';
}

std::string format_device(const json& d) {
    std::vector<std::pair<std::string, std::string>> lines = {
        {"thing", str(d, "thing")},
        {"connected", presence(d)},
        {"credentials", str(d, "credentials")},
        {"created", format_time_ms(ms(d, "created_at_ms"))},
        {"groups", joined(d, "groups", false)},
        {"shadows", joined(d, "shadows", true)},
    };
    auto attributes = d.find("attributes");
    const bool listed = attributes != d.end() && attributes->is_object() && !attributes->empty();
    if (!listed) lines.emplace_back("attributes", "-");
    std::string out = aligned(lines);
    if (listed) {
        out += "attributes:\n";
        for (const auto& [key, value] : attributes->items()) {
            out += "  " + key + " = " + (value.is_string() ? value.get<std::string>() : value.dump()) + '\n';
        }
    }
    return out;
}

std::string format_device_table(const json& devices) {
    std::vector<std::vector<std::string>> rows;
    if (devices.is_array()) {
        for (const auto& d : devices) {
            rows.push_back({str(d, "thing"), flag(d, "connected") ? "yes" : "no", str(d, "credentials"),
                            joined(d, "groups", false), joined(d, "shadows", true),
                            format_time_ms(ms(d, "created_at_ms"))});
        }
    }
    return format_table({"THING", "CONNECTED", "CREDENTIALS", "GROUPS", "SHADOWS", "CREATED"}, rows);
}

std::string format_route_table(const json& routes) {
    std::vector<std::vector<std::string>> rows;
    if (routes.is_array()) {
        for (const auto& r : routes) {
            rows.push_back({str(r, "id"), str(r, "source"), str(r, "filter"), str(r, "target"),
                            format_time_ms(ms(r, "created_at_ms"))});
        }
    }
    return format_table({"ID", "SOURCE", "FILTER", "TARGET", "CREATED"}, rows);
}

std::string shadow_label(const std::optional<std::string>& name) {
    return name ? "shadow " + base::quoted(*name) : std::string("the classic shadow");
}

base::Result<std::string> device_document(const std::string& thing,
                                          const std::vector<std::string>& attributes,
                                          const std::vector<std::string>& groups) {
    json doc = {{"thing", thing}};
    if (!attributes.empty()) {
        json attrs = json::object();
        for (const auto& a : attributes) {
            const std::size_t eq = a.find('=');
            if (eq == std::string::npos || eq == 0) {
                return base::fail(base::Errc::invalid, "--attribute " + base::quoted(a) + " is not KEY=VALUE");
            }
            const std::string key = a.substr(0, eq);
            if (attrs.contains(key)) {
                return base::fail(base::Errc::invalid, "--attribute " + base::quoted(key) + " is given twice");
            }
            attrs[key] = a.substr(eq + 1);
        }
        doc["attributes"] = std::move(attrs);
    }
    if (!groups.empty()) doc["groups"] = groups;
    return doc.dump();
}

std::optional<std::string> shadow_rejection(const http::Response& response) {
    if (response.status < 300) return std::nullopt;
    const json body = json::parse(response.body, nullptr, false);
    if (!body.is_object() || body.contains("error")) return std::nullopt;
    auto code = body.find("code");
    auto message = body.find("message");
    if (code == body.end() || !code->is_number_integer() || message == body.end() || !message->is_string()) {
        return std::nullopt;
    }
    return "code " + std::to_string(code->get<std::int64_t>()) + ": " + message->get<std::string>();
}

}  // namespace gaffer::cli::detail
