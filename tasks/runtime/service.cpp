// The service_request / service_reply headers: encoding and strict parsing.
#include <initializer_list>

#include <nlohmann/json.hpp>

#include "tasks/runtime/detail/json_text.hpp"
#include "tasks/runtime/runtime.hpp"

namespace gaffer::runtime {
namespace {

using Json = nlohmann::json;
using base::Errc;
using detail::describe;

constexpr std::size_t kMaxThingBytes = 128;
constexpr std::size_t kMaxShadowBytes = 64;

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

bool valid_name(std::string_view name, std::size_t max) {
    if (name.empty() || name.size() > max) return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == ':' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

tl::unexpected<base::Error> bad(std::string_view frame, std::string_view field, std::string_view why) {
    return base::fail(Errc::invalid, std::string(frame) + ": " + std::string(field) + ": " + std::string(why));
}

// The header as a JSON object whose keys are all among `allowed`.
base::Result<Json> object_with(std::string_view frame, std::string_view json,
                               std::initializer_list<std::string_view> allowed) {
    Json j = Json::parse(json, nullptr, false);
    if (j.is_discarded()) return base::fail(Errc::invalid, std::string(frame) + ": header is not valid JSON");
    if (!j.is_object())
        return base::fail(Errc::invalid, std::string(frame) + ": header must be a JSON object, got " + describe(j));
    for (auto it = j.begin(); it != j.end(); ++it) {
        bool known = false;
        for (auto a : allowed) known = known || it.key() == a;
        if (!known) return bad(frame, it.key(), "unknown field");
    }
    return j;
}

base::Result<std::uint64_t> id_of(std::string_view frame, const Json& j) {
    auto it = j.find("id");
    if (it == j.end()) return bad(frame, "id", "is required");
    if (!it->is_number_unsigned()) return bad(frame, "id", "expected an unsigned integer, got " + describe(*it));
    return it->get<std::uint64_t>();
}

base::Result<std::string> string_of(std::string_view frame, const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end()) return bad(frame, key, "is required");
    if (!it->is_string()) return bad(frame, key, "expected a string, got " + describe(*it));
    return it->get<std::string>();
}

}  // namespace

std::string_view service_op_name(ServiceOp op) {
    switch (op) {
        case ServiceOp::shadow_get: return "shadow_get";
        case ServiceOp::shadow_update: return "shadow_update";
        case ServiceOp::shadow_delete: return "shadow_delete";
        case ServiceOp::publish: return "publish";
    }
    return "?";
}

bool valid_thing_name(std::string_view name) { return valid_name(name, kMaxThingBytes); }
bool valid_shadow_name(std::string_view name) { return valid_name(name, kMaxShadowBytes); }

std::string to_json(const ServiceRequest& request) {
    Json j{{"id", request.id}, {"op", service_op_name(request.op)}};
    if (request.op == ServiceOp::publish) {
        j["topic"] = request.topic;
        j["qos"] = request.qos;
    } else {
        j["thing"] = request.thing;
        if (!request.shadow.empty()) j["shadow"] = request.shadow;
    }
    return dump(j);
}

std::string to_json(const ServiceReply& reply) { return dump(Json{{"id", reply.id}, {"status", reply.status}}); }

base::Result<ServiceRequest> parse_service_request(std::string_view json) {
    constexpr std::string_view kFrame = "service_request";
    auto j = object_with(kFrame, json, {"id", "op", "thing", "shadow", "topic", "qos"});
    if (!j) return tl::unexpected(j.error());
    ServiceRequest r;
    auto id = id_of(kFrame, *j);
    if (!id) return tl::unexpected(id.error());
    r.id = *id;
    auto op = string_of(kFrame, *j, "op");
    if (!op) return tl::unexpected(op.error());
    bool known = false;
    for (auto candidate : {ServiceOp::shadow_get, ServiceOp::shadow_update, ServiceOp::shadow_delete,
                           ServiceOp::publish})
        if (*op == service_op_name(candidate)) {
            r.op = candidate;
            known = true;
        }
    if (!known) return bad(kFrame, "op", "\"" + *op + "\" is not a known operation");

    if (r.op == ServiceOp::publish) {
        for (const char* key : {"thing", "shadow"})
            if (j->contains(key)) return bad(kFrame, key, "does not belong to a publish");
        auto topic = string_of(kFrame, *j, "topic");
        if (!topic) return tl::unexpected(topic.error());
        if (topic->empty() || topic->size() > kMaxTopicBytes)
            return bad(kFrame, "topic", "must be 1 to 65535 bytes");
        r.topic = std::move(*topic);
        auto qos = j->find("qos");
        if (qos != j->end()) {
            if (!qos->is_number_unsigned() || qos->get<std::uint64_t>() > 1)
                return bad(kFrame, "qos", "expected 0 or 1, got " + describe(*qos));
            r.qos = qos->get<int>();
        }
        return r;
    }
    for (const char* key : {"topic", "qos"})
        if (j->contains(key)) return bad(kFrame, key, "does not belong to a shadow operation");
    auto thing = string_of(kFrame, *j, "thing");
    if (!thing) return tl::unexpected(thing.error());
    if (!valid_thing_name(*thing))
        return bad(kFrame, "thing", "\"" + *thing + "\" is not 1 to 128 characters of [a-zA-Z0-9:_-]");
    r.thing = std::move(*thing);
    if (j->contains("shadow")) {
        auto shadow = string_of(kFrame, *j, "shadow");
        if (!shadow) return tl::unexpected(shadow.error());
        if (!valid_shadow_name(*shadow))
            return bad(kFrame, "shadow", "\"" + *shadow + "\" is not 1 to 64 characters of [a-zA-Z0-9:_-]");
        r.shadow = std::move(*shadow);
    }
    return r;
}

base::Result<ServiceReply> parse_service_reply(std::string_view json) {
    constexpr std::string_view kFrame = "service_reply";
    auto j = object_with(kFrame, json, {"id", "status"});
    if (!j) return tl::unexpected(j.error());
    ServiceReply r;
    auto id = id_of(kFrame, *j);
    if (!id) return tl::unexpected(id.error());
    r.id = *id;
    auto status = j->find("status");
    if (status == j->end()) return bad(kFrame, "status", "is required");
    if (!status->is_number_unsigned() || status->get<std::uint64_t>() < 200 || status->get<std::uint64_t>() > 599)
        return bad(kFrame, "status", "expected an HTTP status from 200 to 599, got " + describe(*status));
    r.status = status->get<int>();
    return r;
}

}  // namespace gaffer::runtime
