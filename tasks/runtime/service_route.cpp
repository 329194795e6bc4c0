// From a task's HTTP request on /gaffer/... to the service_request for gafferd, or to the
// answer gaffer-init gives itself when the request is malformed.
#include <nlohmann/json.hpp>

#include "tasks/runtime/runtime.hpp"

namespace gaffer::runtime {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kShadowPrefix = "/gaffer/v1/shadow/";
constexpr std::string_view kPublishPath = "/gaffer/v1/publish";

http::Response error(const http::Request& request, int status, std::string_view kind, std::string_view message) {
    return service_response(status, service_error_document(kind, message), request.keep_alive);
}

ServiceRouting reject(const http::Request& request, int status, std::string_view kind, std::string_view message) {
    return ServiceRouting{std::nullopt, error(request, status, kind, message)};
}

// The raw (still percent-encoded) keys of a query string, in order.
std::vector<std::string_view> query_keys(std::string_view query) {
    std::vector<std::string_view> keys;
    while (!query.empty()) {
        const auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        keys.push_back(pair.substr(0, pair.find('=')));
    }
    return keys;
}

bool has_key(std::string_view query, std::string_view key) {
    for (auto k : query_keys(query))
        if (k == key) return true;
    return false;
}

// Every key known and given once; else the message for a 400.
std::optional<std::string> check_query(std::string_view query, const std::vector<std::string_view>& allowed) {
    std::vector<std::string_view> seen;
    for (auto key : query_keys(query)) {
        bool known = false;
        for (auto a : allowed) known = known || key == a;
        if (!known) {
            std::string message = "unknown query parameter " + base::quoted(key);
            if (auto close = base::closest_match(key, allowed)) message += " (did you mean " + base::quoted(*close) + "?)";
            return message;
        }
        for (auto s : seen)
            if (s == key) return "query parameter " + base::quoted(key) + " is given more than once";
        seen.push_back(key);
    }
    return std::nullopt;
}

bool valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t extra = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (text.size() - i <= extra) return false;  // cut short
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
        static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
        if (cp < kMin[extra] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return false;
        i += extra + 1;
    }
    return true;
}

ServiceRouting route_shadow(const http::Request& request) {
    ServiceRequest out;
    if (request.method == "GET") out.op = ServiceOp::shadow_get;
    else if (request.method == "POST") out.op = ServiceOp::shadow_update;
    else if (request.method == "DELETE") out.op = ServiceOp::shadow_delete;
    else {
        auto r = error(request, 405, "invalid",
                       request.method + " is not allowed on " + std::string(kShadowPrefix) +
                           "{thing}: use GET (read), POST (update) or DELETE");
        r.headers.emplace_back("Allow", "GET, POST, DELETE");
        return ServiceRouting{std::nullopt, std::move(r)};
    }
    const std::string thing = request.path.substr(kShadowPrefix.size());
    if (thing.empty()) return reject(request, 400, "invalid", "the path names no thing: use " + std::string(kShadowPrefix) + "{thing}");
    if (!valid_thing_name(thing))
        return reject(request, 400, "invalid",
                      "thing name " + base::quoted(thing) + " is not 1 to 128 characters of [a-zA-Z0-9:_-]");
    if (auto problem = check_query(request.query, {"name"})) return reject(request, 400, "invalid", *problem);
    if (has_key(request.query, "name")) {
        auto name = http::find_query_param(request.query, "name");
        if (!name) return reject(request, 400, "invalid", "query parameter \"name\" is badly percent-encoded");
        if (!valid_shadow_name(*name))
            return reject(request, 400, "invalid",
                          "shadow name " + base::quoted(*name) +
                              " is not 1 to 64 characters of [a-zA-Z0-9:_-] (leave out ?name= for the classic shadow)");
        out.shadow = std::move(*name);
    }
    out.thing = thing;
    return ServiceRouting{std::move(out), std::nullopt};
}

ServiceRouting route_publish(const http::Request& request) {
    if (request.method != "POST") {
        auto r = error(request, 405, "invalid",
                       request.method + " is not allowed on " + std::string(kPublishPath) + ": use POST");
        r.headers.emplace_back("Allow", "POST");
        return ServiceRouting{std::nullopt, std::move(r)};
    }
    if (auto problem = check_query(request.query, {"topic", "qos"})) return reject(request, 400, "invalid", *problem);
    ServiceRequest out;
    out.op = ServiceOp::publish;
    if (!has_key(request.query, "topic"))
        return reject(request, 400, "invalid",
                      "the topic is missing: use " + std::string(kPublishPath) + "?topic={url-encoded topic}");
    auto topic = http::find_query_param(request.query, "topic");
    if (!topic) return reject(request, 400, "invalid", "query parameter \"topic\" is badly percent-encoded");
    if (topic->empty() || topic->size() > kMaxTopicBytes)
        return reject(request, 400, "invalid", "the topic must be 1 to 65535 bytes, got " + std::to_string(topic->size()));
    if (!valid_utf8(*topic)) return reject(request, 400, "invalid", "the topic is not valid UTF-8");
    out.topic = std::move(*topic);
    if (has_key(request.query, "qos")) {
        auto qos = http::find_query_param(request.query, "qos");
        if (!qos || (*qos != "0" && *qos != "1"))
            return reject(request, 400, "invalid",
                          "qos must be 0 or 1, got " + base::quoted(qos ? *qos : std::string("(badly encoded)")));
        out.qos = *qos == "1" ? 1 : 0;
    }
    return ServiceRouting{std::move(out), std::nullopt};
}

}  // namespace

bool is_service_path(std::string_view path) {
    return path == "/gaffer" || path.substr(0, 8) == "/gaffer/";
}

ServiceRouting route_service(const http::Request& request) {
    const std::string_view path = request.path;
    ServiceRouting routed;
    if (path.substr(0, kShadowPrefix.size()) == kShadowPrefix)
        routed = route_shadow(request);
    else if (path == kPublishPath)
        routed = route_publish(request);
    else
        return reject(request, 404, "not_found",
                      "unknown Gaffer runtime API route: " + request.method + " " + request.path +
                          " (the routes are " + std::string(kShadowPrefix) + "{thing} and " +
                          std::string(kPublishPath) + ")");
    if (routed.request && request.body.size() > kMaxServiceBody)
        return reject(request, 413, "invalid",
                      "the body of " + std::to_string(request.body.size()) + " bytes exceeds the limit of " +
                          std::to_string(kMaxServiceBody) + " bytes");
    return routed;
}

http::Response service_response(int status, std::string body, bool keep_alive) {
    http::Response r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
    r.keep_alive = keep_alive;
    return r;
}

std::string service_error_document(std::string_view error, std::string_view message) {
    return Json{{"error", error}, {"message", message}}.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace gaffer::runtime
