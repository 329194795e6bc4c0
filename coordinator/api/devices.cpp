#include <charconv>
#include <utility>

#include "coordinator/api/detail/device_routes.hpp"
#include "coordinator/api/detail/json_views.hpp"

namespace gaffer::api::detail {
namespace {

using nlohmann::json;

// The shape of a device document; the registry judges the values (attribute names,
// group names, counts) and names the field when it refuses one.
std::optional<std::string> device_document_problem(const json& doc) {
    auto thing = required_string(doc, "thing");
    if (!thing) return thing.error().message;
    if (!valid_thing_name(*thing)) return thing_name_problem("thing", *thing);
    if (auto it = doc.find("attributes"); it != doc.end()) {
        if (!it->is_object()) return std::string("attributes: must be an object of strings");
        for (const auto& [key, value] : it->items()) {
            if (!value.is_string()) return "attributes." + key + ": must be a string";
        }
    }
    if (auto it = doc.find("groups"); it != doc.end()) {
        if (!it->is_array()) return std::string("groups: must be an array of strings");
        for (std::size_t i = 0; i < it->size(); ++i) {
            if (!(*it)[i].is_string()) return "groups[" + std::to_string(i) + "]: must be a string";
        }
    }
    return std::nullopt;
}

std::optional<std::size_t> parse_count(std::string_view text) {
    std::size_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

void add_device(RouteContext& ctx, Router::Respond respond) {
    if (auto over = body_over(ctx, kMaxDeviceBodyBytes)) return respond(std::move(*over));
    auto doc = parse_object(ctx.request.body, {"thing", "attributes", "groups"});
    if (!doc) return respond(error_response(doc.error()));
    if (auto problem = device_document_problem(*doc)) return respond(invalid_request(*problem));
    ctx.devices->add_device(
        ctx.request.body,
        [respond = std::move(respond)](base::Result<std::pair<DeviceView, Credentials>> added) {
            if (!added) return respond(error_response(added.error()));
            respond(json_response(201, {{"device", to_json(added->first)},
                                        {"credentials", to_json(added->second)}}));
        });
}

http::Response list_devices(RouteContext& ctx) {
    const auto& o = ctx.options;
    auto after = query_param(ctx.request.query, "after");
    if (!after) return error_response(after.error());
    if (*after && !(*after)->empty() && !valid_thing_name(**after)) {
        return invalid_request(thing_name_problem("after", **after));
    }
    auto limit_text = query_param(ctx.request.query, "limit");
    if (!limit_text) return error_response(limit_text.error());
    std::size_t limit = o.default_device_page;
    if (*limit_text) {
        auto n = parse_count(**limit_text);
        if (!n || *n == 0 || *n > o.max_device_page) {
            return invalid_request("limit: must be a number from 1 to " + std::to_string(o.max_device_page) +
                                   ", not " + base::quoted(**limit_text));
        }
        limit = *n;
    }
    // One more than the page tells whether another page follows.
    auto devices = ctx.devices->list_devices(after->value_or(""), limit + 1);
    if (!devices) return error_response(devices.error());
    json next = nullptr;
    if (devices->size() > limit) {
        devices->resize(limit);
        next = devices->back().thing;
    }
    json list = json::array();
    for (const auto& d : *devices) list.push_back(to_json(d));
    return json_response(200, {{"devices", std::move(list)}, {"next", std::move(next)}});
}

http::Response show_device(RouteContext& ctx, std::string_view thing) {
    if (!valid_thing_name(thing)) return invalid_request(thing_name_problem("thing", thing));
    auto device = ctx.devices->show_device(thing);
    if (!device) return error_response(device.error());
    return json_response(200, to_json(*device));
}

void remove_device(RouteContext& ctx, std::string_view thing, Router::Respond respond) {
    if (!valid_thing_name(thing)) return respond(invalid_request(thing_name_problem("thing", thing)));
    ctx.devices->remove_device(thing, [respond = std::move(respond), name = std::string(thing)](
                                          base::Result<void> removed) {
        if (!removed) return respond(error_response(removed.error()));
        respond(json_response(200, {{"thing", name}, {"removed", true}}));
    });
}

void rotate_credentials(RouteContext& ctx, std::string_view thing, Router::Respond respond) {
    if (!valid_thing_name(thing)) return respond(invalid_request(thing_name_problem("thing", thing)));
    // Nothing is taken from the body; an empty one or {} is accepted so that clients that
    // always send JSON work.
    if (!ctx.request.body.empty()) {
        if (auto over = body_over(ctx, kMaxRouteBodyBytes)) return respond(std::move(*over));
        auto doc = parse_object(ctx.request.body, {});
        if (!doc) return respond(error_response(doc.error()));
    }
    ctx.devices->rotate_credentials(thing, [respond = std::move(respond)](base::Result<Credentials> made) {
        if (!made) return respond(error_response(made.error()));
        respond(json_response(200, {{"credentials", to_json(*made)}}));
    });
}

}  // namespace gaffer::api::detail
