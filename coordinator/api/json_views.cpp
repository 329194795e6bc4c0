#include "coordinator/api/detail/json_views.hpp"

namespace gaffer::api {
namespace {

constexpr std::string_view kStatusNames[] = {"ok",      "function_error", "timeout",  "out_of_memory",
                                             "crashed", "init_error",     "cancelled"};

}  // namespace

std::string_view status_name(InvocationStatus status) {
    return kStatusNames[static_cast<std::size_t>(status)];
}

std::optional<InvocationStatus> parse_status_name(std::string_view name) {
    for (std::size_t i = 0; i < std::size(kStatusNames); ++i) {
        if (kStatusNames[i] == name) return static_cast<InvocationStatus>(i);
    }
    return std::nullopt;
}

namespace detail {

using nlohmann::json;

json to_json(const TaskView& t, bool with_manifest) {
    json j = {{"name", t.name},
              {"version", t.version},
              {"owner", t.owner},
              {"mode", t.mode},
              {"state", t.state},
              {"queued", t.queued},
              {"running", t.running},
              {"environments", t.environments},
              {"recent_failures", t.recent_failures}};
    if (with_manifest && !t.manifest_json.empty()) {
        // The Backend hands back its own canonical JSON; should it ever not parse, the
        // client still sees it, as a string.
        json manifest = json::parse(t.manifest_json, nullptr, false);
        j["manifest"] = manifest.is_discarded() ? json(t.manifest_json) : manifest;
    }
    return j;
}

json to_json(const InvocationView& v) {
    json j = {{"id", v.id},
              {"task", v.task},
              {"state", v.finished ? "finished" : "pending"},
              {"accepted_at_ms", v.accepted_at_ms}};
    if (v.finished) {
        j["finished_at_ms"] = v.finished_at_ms;
        j["status"] = status_name(v.outcome.status);
        j["response"] = v.outcome.payload;
        if (!v.outcome.detail.empty()) j["detail"] = v.outcome.detail;
    }
    return j;
}

json to_json(const EnvironmentView& e) {
    return {{"id", e.id},
            {"task", e.task},
            {"state", e.state},
            {"age_seconds", e.age_seconds},
            {"invocations", e.invocations}};
}

json to_json(const StatusView& s) {
    return {{"version", s.version},
            {"uptime_seconds", s.uptime_seconds},
            {"tasks", s.tasks},
            {"environments", s.environments},
            {"queued", s.queued},
            {"running", s.running},
            {"shutting_down", s.shutting_down}};
}

json to_json(const DeviceView& d) {
    // As with manifests: the Backend's own JSON, shown as a string should it not parse.
    json attributes = json::parse(d.attributes_json, nullptr, false);
    if (attributes.is_discarded()) attributes = d.attributes_json;
    return {{"thing", d.thing},
            {"attributes", std::move(attributes)},
            {"groups", d.groups},
            {"connected", d.connected},
            {"presence_changed_at_ms", d.presence_changed_at_ms},
            {"created_at_ms", d.created_at_ms},
            {"credentials", d.credentials},
            {"shadows", d.shadows}};
}

json to_json(const Credentials& c) {
    return {{"thing", c.thing},
            {"username", c.username},
            {"client_id", c.client_id},
            {"password", c.password},
            {"broker", c.broker}};
}

json to_json(const RouteView& r) {
    return {{"id", r.id},
            {"source", r.source},
            {"filter", r.filter},
            {"target", r.target},
            {"created_at_ms", r.created_at_ms}};
}

std::string dump(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

http::Response json_response(int status, const json& body) {
    http::Response r;
    r.status = status;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = dump(body);
    r.body += '\n';
    return r;
}

}  // namespace detail

int http_status_for(base::Errc code) {
    switch (code) {
        case base::Errc::invalid: return 400;
        case base::Errc::not_found: return 404;
        case base::Errc::conflict: return 409;
        case base::Errc::busy: return 429;
        case base::Errc::denied: return 403;
        case base::Errc::unavailable: return 503;
        case base::Errc::timeout: return 504;
        case base::Errc::retry:
        case base::Errc::io: return 500;
    }
    return 500;
}

http::Response error_response(int status, std::string_view error_name, std::string_view message) {
    return detail::json_response(status, {{"error", error_name}, {"message", message}});
}

http::Response error_response(const base::Error& error) {
    return error_response(http_status_for(error.code), base::errc_name(error.code), error.message);
}

}  // namespace gaffer::api
