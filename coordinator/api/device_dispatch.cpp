#include <string>
#include <vector>

#include "coordinator/api/detail/device_routes.hpp"

namespace gaffer::api::detail {
namespace {

using nlohmann::json;

bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
           c == '_' || c == '-';
}

bool valid_name(std::string_view name, std::size_t max) {
    if (name.empty() || name.size() > max) return false;
    for (const char c : name) {
        if (!name_char(c)) return false;
    }
    return true;
}

}  // namespace

bool valid_thing_name(std::string_view name) { return valid_name(name, 128); }
bool valid_shadow_name(std::string_view name) { return valid_name(name, 64); }

std::string thing_name_problem(std::string_view where, std::string_view name) {
    return std::string(where) + ": " + base::quoted(name) +
           " is not a thing name (1 to 128 letters, digits, ':', '_', '-')";
}

base::Result<std::optional<std::string>> query_param(std::string_view query, std::string_view key) {
    if (auto value = http::find_query_param(query, key)) return value;
    for (std::string_view rest = query; !rest.empty();) {
        const std::size_t amp = rest.find('&');
        const std::string_view part = rest.substr(0, amp);
        if (part.substr(0, part.find('=')) == key) {
            return base::fail(base::Errc::invalid, std::string(key) + ": badly percent-encoded");
        }
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    }
    return std::optional<std::string>();
}

std::optional<http::Response> body_over(const RouteContext& ctx, std::size_t limit) {
    if (ctx.request.body.size() <= limit) return std::nullopt;
    return error_response(413, "invalid",
                          "body: " + std::to_string(ctx.request.body.size()) +
                              " bytes is over the limit of " + std::to_string(limit) +
                              " bytes for " + ctx.request.path);
}

base::Result<json> parse_object(std::string_view body, std::initializer_list<std::string_view> known) {
    if (auto problem = json_problem(body)) {
        return base::fail(base::Errc::invalid, "body is not JSON: " + *problem);
    }
    json parsed = json::parse(body);
    if (!parsed.is_object()) return base::fail(base::Errc::invalid, "body: must be a JSON object");
    const std::vector<std::string_view> candidates(known);
    for (const auto& [key, value] : parsed.items()) {
        bool found = false;
        for (const std::string_view k : known) found = found || k == key;
        if (found) continue;
        std::string message = "unknown key " + base::quoted(key);
        if (auto near = base::closest_match(key, candidates)) {
            message += " (did you mean " + base::quoted(*near) + "?)";
        }
        return base::fail(base::Errc::invalid, std::move(message));
    }
    return parsed;
}

base::Result<std::string> required_string(const json& obj, std::string_view key) {
    auto it = obj.find(std::string(key));
    if (it == obj.end()) return base::fail(base::Errc::invalid, std::string(key) + ": missing");
    if (!it->is_string()) return base::fail(base::Errc::invalid, std::string(key) + ": must be a string");
    return it->get<std::string>();
}

bool dispatch_devices(RouteContext& ctx, Router::Respond& respond) {
    const auto& seg = ctx.segments;
    if (seg.size() < 2 || seg[0] != "v1" || (seg[1] != "devices" && seg[1] != "routes")) return false;
    const std::string& method = ctx.request.method;
    const bool devices = seg[1] == "devices";

    // Which methods the path takes; empty: not a path of ours.
    std::string_view allowed;
    if (devices && seg.size() == 2) allowed = "GET, POST";
    else if (devices && seg.size() == 3) allowed = "GET, DELETE";
    else if (devices && seg.size() == 4 && seg[3] == "credentials") allowed = "POST";
    else if (devices && seg.size() == 4 && seg[3] == "shadow") allowed = "GET, POST, DELETE";
    else if (!devices && seg.size() == 2) allowed = "GET, POST";
    else if (!devices && seg.size() == 3) allowed = "DELETE";
    if (allowed.empty()) return false;

    bool method_ok = false;
    for (std::string_view rest = allowed; !rest.empty();) {
        const std::size_t comma = rest.find(", ");
        method_ok = method_ok || rest.substr(0, comma) == method;
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
    }
    if (!method_ok) {
        respond(method_not_allowed(ctx, allowed));
        return true;
    }
    if (ctx.devices == nullptr) {
        respond(error_response(503, "unavailable",
                               "devices are not enabled: configure [broker] in gaffer.toml"));
        return true;
    }

    if (devices && seg.size() == 2) {
        if (method == "POST") add_device(ctx, std::move(respond));
        else respond(list_devices(ctx));
    } else if (devices && seg.size() == 3) {
        if (method == "GET") respond(show_device(ctx, seg[2]));
        else remove_device(ctx, seg[2], std::move(respond));
    } else if (devices && seg[3] == "credentials") {
        rotate_credentials(ctx, seg[2], std::move(respond));
    } else if (devices) {
        respond(shadow(ctx, seg[2]));
    } else if (seg.size() == 2) {
        if (method == "POST") add_route(ctx, std::move(respond));
        else respond(list_routes(ctx));
    } else {
        remove_route(ctx, seg[2], std::move(respond));
    }
    return true;
}

}  // namespace gaffer::api::detail
