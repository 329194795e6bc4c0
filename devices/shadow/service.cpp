// The shadow service: validates a request completely, computes the new document, saves
// it once, then builds the answer and the publications. Nothing is saved or published
// (but the rejection) unless every step before the save succeeded.
#include <exception>
#include <limits>

#include "devices/shadow/detail/document.hpp"
#include "devices/shadow/detail/document_cache.hpp"
#include "devices/shadow/detail/messages.hpp"
#include "devices/shadow/shadow.hpp"

namespace gaffer::shadow {
namespace {

using detail::Json;

constexpr std::string_view kInternalFailure = "Internal service failure";
constexpr std::string_view kTooDeep = "JSON contains too many levels of nesting; maximum is 6";
constexpr std::string_view kTooLarge = "The payload exceeds the maximum size allowed";
// Raw bracket nesting refused before parsing: far above any valid request (state,
// section and 6 levels), low enough that no pathological payload reaches the parser.
constexpr std::size_t kMaxRawNesting = 64;

// The clientToken of a request: absent, valid (then `json` is its encoded form), or
// invalid (not a string, longer than the limit, or not UTF-8).
struct ClientToken {
    bool invalid = false;
    std::string json;
};

ClientToken token_from_text(std::string_view raw, std::size_t max) {
    ClientToken token;
    if (raw.empty()) return token;
    if (raw.size() > max || !detail::scan_bytes(raw).utf8) {
        token.invalid = true;
        return token;
    }
    token.json = Json(std::string(raw)).dump();
    return token;
}

ClientToken token_from_request(const Json& request, std::size_t max) {
    const auto it = request.find("clientToken");
    if (it == request.end()) return {};
    if (!it->is_string()) return ClientToken{true, {}};
    const auto& text = it->get_ref<const std::string&>();
    if (text.size() > max) return ClientToken{true, {}};
    return ClientToken{false, it->dump()};
}

// Get and delete ignore their payload except for a clientToken.
ClientToken token_from_payload(std::string_view payload, std::size_t max) {
    if (payload.empty()) return {};
    const auto scan = detail::scan_bytes(payload);
    if (!scan.utf8 || scan.depth > kMaxRawNesting) return {};
    const Json request = Json::parse(payload, nullptr, false);
    if (request.is_discarded() || !request.is_object()) return {};
    return token_from_request(request, max);
}

std::string_view op_name(Operation op) {
    switch (op) {
        case Operation::get: return "get";
        case Operation::update: return "update";
        case Operation::remove: return "delete";
    }
    return "get";
}

std::string not_found_message(const Key& key) {
    return "No shadow exists with name: '" + (key.name.empty() ? key.thing : key.name) + "'";
}

// Validation of the request's state node; the message of the first problem, if any.
std::optional<std::string_view> check_state(const Json& state, const Limits& limits) {
    if (state.is_null()) return std::nullopt;
    if (!state.is_object()) return "State node must be an object";
    for (auto it = state.begin(); it != state.end(); ++it) {
        const bool desired = it.key() == "desired";
        if (!desired && it.key() != "reported") return "State contains an invalid node";
        const Json& section = it.value();
        if (section.is_null()) continue;
        if (!section.is_object()) {
            return desired ? "Desired node must be an object" : "Reported node must be an object";
        }
    }
    for (const auto& section : state) {
        if (detail::nesting_levels(section, limits.max_depth) > limits.max_depth) return kTooDeep;
    }
    for (const auto& section : state) {
        if (detail::array_holds_null(section)) return "Invalid JSON";
    }
    return std::nullopt;
}

// The request's expected version: nullopt when absent (or null); -1 when invalid.
std::optional<std::int64_t> expected_version(const Json& request) {
    const auto it = request.find("version");
    if (it == request.end() || it->is_null()) return std::nullopt;
    if (it->is_number_unsigned()) {
        const auto v = it->get<std::uint64_t>();
        if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return -1;
        return static_cast<std::int64_t>(v);
    }
    if (it->is_number_integer()) {
        const auto v = it->get<std::int64_t>();
        return v < 0 ? -1 : v;
    }
    return -1;
}

}  // namespace

Service::Service(Store& store, const WallClock& clock, Limits limits)
    : store_(store),
      clock_(clock),
      limits_(limits),
      cache_(std::make_unique<detail::DocumentCache>(limits.cached_documents)) {}

Service::~Service() = default;

Reply Service::reject(const Key& key, std::string_view op, int code, std::string_view message,
                      const std::string& token, bool mqtt) const {
    Reply reply;
    reply.code = code;
    reply.body = detail::error_message(code, message, clock_.epoch_seconds(), token);
    if (mqtt && valid_thing_name(key.thing) && (key.name.empty() || valid_shadow_name(key.name))) {
        reply.publications.push_back(
            {topic_prefix(key) + "/" + std::string(op) + "/rejected", reply.body});
    }
    return reply;
}

std::optional<Reply> Service::check_key(const Key& key, std::string_view op,
                                        const std::string& token, bool mqtt) const {
    if (!valid_thing_name(key.thing)) return reject(key, op, 400, "Invalid thing name", token, mqtt);
    if (!key.name.empty() && !valid_shadow_name(key.name)) {
        return reject(key, op, 400, "Invalid shadow name", token, mqtt);
    }
    if (!store_.thing_exists(key.thing)) return reject(key, op, 404, "Thing not found", token, mqtt);
    return std::nullopt;
}

Reply Service::handle(const Request& request, std::string_view payload) {
    try {
        if (request.op == Operation::update) return do_update(request.key, payload, true);
        const ClientToken token = token_from_payload(payload, limits_.max_client_token);
        if (token.invalid) {
            return reject(request.key, op_name(request.op), 400, "Invalid clientToken", {}, true);
        }
        if (request.op == Operation::get) return do_get(request.key, token.json, true);
        return do_remove(request.key, token.json, true);
    } catch (const std::exception&) {
        return reject(request.key, op_name(request.op), 500, kInternalFailure, {}, true);
    }
}

Reply Service::get(const Key& key, std::string_view client_token) {
    try {
        const ClientToken token = token_from_text(client_token, limits_.max_client_token);
        if (token.invalid) return reject(key, "get", 400, "Invalid clientToken", {}, false);
        return do_get(key, token.json, false);
    } catch (const std::exception&) {
        return reject(key, "get", 500, kInternalFailure, {}, false);
    }
}

Reply Service::update(const Key& key, std::string_view request_json) {
    try {
        return do_update(key, request_json, false);
    } catch (const std::exception&) {
        return reject(key, "update", 500, kInternalFailure, {}, false);
    }
}

Reply Service::remove(const Key& key, std::string_view client_token) {
    try {
        const ClientToken token = token_from_text(client_token, limits_.max_client_token);
        if (token.invalid) return reject(key, "delete", 400, "Invalid clientToken", {}, false);
        return do_remove(key, token.json, false);
    } catch (const std::exception&) {
        return reject(key, "delete", 500, kInternalFailure, {}, false);
    }
}

Reply Service::do_get(const Key& key, const std::string& token, bool mqtt) {
    if (auto refused = check_key(key, "get", token, mqtt)) return std::move(*refused);
    auto loaded = store_.load(key);
    if (!loaded) return reject(key, "get", 500, kInternalFailure, token, mqtt);
    if (!*loaded || (*loaded)->deleted) return reject(key, "get", 404, not_found_message(key), token, mqtt);
    auto doc = detail::parse_document((*loaded)->document);
    if (!doc) return reject(key, "get", 500, kInternalFailure, token, mqtt);

    Json delta = detail::compute_delta(*doc);
    Reply reply;
    reply.body = detail::get_accepted(*doc, std::move(delta), (*loaded)->version,
                                      clock_.epoch_seconds(), token);
    if (mqtt) reply.publications.push_back({topic_prefix(key) + "/get/accepted", reply.body});
    return reply;
}

Reply Service::do_remove(const Key& key, const std::string& token, bool mqtt) {
    if (auto refused = check_key(key, "delete", token, mqtt)) return std::move(*refused);
    auto loaded = store_.load(key);
    if (!loaded) return reject(key, "delete", 500, kInternalFailure, token, mqtt);
    if (!*loaded || (*loaded)->deleted) {
        return reject(key, "delete", 404, not_found_message(key), token, mqtt);
    }
    const std::int64_t version = (*loaded)->version;
    cache_->forget(key);
    if (!store_.save(key, Stored{{}, version, true})) {
        return reject(key, "delete", 500, kInternalFailure, token, mqtt);
    }
    Reply reply;
    reply.body = detail::delete_accepted(version, clock_.epoch_seconds(), token);
    reply.publications.push_back({topic_prefix(key) + "/delete/accepted", reply.body});
    return reply;
}

Reply Service::do_update(const Key& key, std::string_view payload, bool mqtt) {
    const std::int64_t now = clock_.epoch_seconds();
    auto refuse = [&](int code, std::string_view message, const std::string& token) {
        return reject(key, "update", code, message, token, mqtt);
    };
    if (payload.size() > limits_.max_request_bytes) return refuse(413, kTooLarge, {});
    const auto scan = detail::scan_bytes(payload);
    if (!scan.utf8) return refuse(415, "Unsupported documented encoding; supported encoding is UTF-8", {});
    if (scan.depth > kMaxRawNesting) return refuse(400, kTooDeep, {});
    const Json request = Json::parse(payload, nullptr, false);
    if (request.is_discarded() || !request.is_object()) return refuse(400, "Invalid JSON", {});

    const ClientToken token = token_from_request(request, limits_.max_client_token);
    if (token.invalid) return refuse(400, "Invalid clientToken", {});
    if (auto refused = check_key(key, "update", token.json, mqtt)) return std::move(*refused);
    const auto expected = expected_version(request);
    if (expected && *expected < 0) return refuse(400, "Invalid version", token.json);
    const auto state = request.find("state");
    if (state == request.end()) return refuse(400, "Missing required node: state", token.json);
    if (auto problem = check_state(*state, limits_)) return refuse(400, *problem, token.json);
    const std::string state_text = state->dump();
    if (state_text.size() > limits_.max_state_bytes) return refuse(413, kTooLarge, token.json);

    auto loaded = store_.load(key);
    if (!loaded) return refuse(500, kInternalFailure, token.json);
    const bool existed = loaded->has_value() && !(*loaded)->deleted;
    const std::int64_t current = loaded->has_value() ? (*loaded)->version : 0;
    if (expected && *expected != current) return refuse(409, "Version conflict", token.json);

    detail::Document doc;
    if (existed) {
        auto parsed = cache_->take(key, **loaded);
        if (!parsed) parsed = detail::parse_document((*loaded)->document);
        if (!parsed) return refuse(500, kInternalFailure, token.json);
        doc = std::move(*parsed);
    }
    static const std::string kDesired = "desired";
    static const std::string kReported = "reported";
    // {"state": null} deletes all state: both sections, as if each were null.
    const Json cleared = {{kDesired, nullptr}, {kReported, nullptr}};
    const Json& sections = state->is_null() ? cleared : *state;
    for (const auto& name : {kDesired, kReported}) {
        if (const auto s = sections.find(name); s != sections.end()) {
            detail::apply_section(doc, name, *s, now);
        }
    }
    const std::string new_state = doc.state.dump();
    if (new_state.size() > limits_.max_state_bytes) return refuse(413, kTooLarge, token.json);

    Stored stored;
    stored.version = current + 1;
    stored.document.reserve(new_state.size() + 32);
    stored.document.append("{\"state\":").append(new_state).append(",\"metadata\":");
    stored.document.append(doc.metadata.dump()).append("}");
    if (!store_.save(key, stored)) return refuse(500, kInternalFailure, token.json);

    const std::string prefix = topic_prefix(key);
    Reply reply;
    reply.body = detail::update_accepted(state_text, detail::request_metadata(sections, now).dump(),
                                         stored.version, now, token.json);
    reply.publications.push_back({prefix + "/update/accepted", reply.body});
    if (const auto desired = sections.find(kDesired); desired != sections.end()) {
        const Json delta = detail::compute_delta(doc);
        if (!delta.empty() && detail::request_touches_delta(*desired, delta)) {
            reply.publications.push_back(
                {prefix + "/update/delta",
                 detail::delta_message(delta, detail::delta_metadata(delta, doc), stored.version,
                                       now, token.json)});
        }
    }
    const std::string previous =
        existed ? detail::with_version((*loaded)->document, current) : std::string();
    reply.publications.push_back(
        {prefix + "/update/documents",
         detail::documents_message(previous, detail::with_version(stored.document, stored.version),
                                   now, token.json)});
    cache_->put(key, stored, std::move(doc));
    return reply;
}

}  // namespace gaffer::shadow
