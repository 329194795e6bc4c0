#include <charconv>

#include "coordinator/api/detail/device_routes.hpp"
#include "coordinator/api/detail/json_views.hpp"

namespace gaffer::api::detail {
namespace {

using nlohmann::json;

// Ids are positive int64 in decimal; signs, spaces and leading zeros are refused so that
// one route has one spelling.
std::optional<std::int64_t> parse_route_id(std::string_view text) {
    if (text.empty() || text.front() == '0') return std::nullopt;
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || value <= 0) return std::nullopt;
    return value;
}

}  // namespace

void add_route(RouteContext& ctx, Router::Respond respond) {
    if (auto over = body_over(ctx, kMaxRouteBodyBytes)) return respond(std::move(*over));
    auto doc = parse_object(ctx.request.body, {"source", "filter", "target"});
    if (!doc) return respond(error_response(doc.error()));
    auto source = required_string(*doc, "source");
    if (!source) return respond(error_response(source.error()));
    auto filter = required_string(*doc, "filter");
    if (!filter) return respond(error_response(filter.error()));
    auto target = required_string(*doc, "target");
    if (!target) return respond(error_response(target.error()));
    ctx.devices->add_route(*source, *filter, *target, [respond = std::move(respond)](base::Result<RouteView> route) {
        if (!route) return respond(error_response(route.error()));
        respond(json_response(201, to_json(*route)));
    });
}

http::Response list_routes(RouteContext& ctx) {
    auto routes = ctx.devices->list_routes();
    if (!routes) return error_response(routes.error());
    json list = json::array();
    for (const auto& r : *routes) list.push_back(to_json(r));
    return json_response(200, {{"routes", std::move(list)}});
}

void remove_route(RouteContext& ctx, std::string_view id_text, Router::Respond respond) {
    auto id = parse_route_id(id_text);
    if (!id) return respond(invalid_request("id: " + base::quoted(id_text) + " is not a route id (a positive integer)"));
    ctx.devices->remove_route(*id, [id = *id, respond = std::move(respond)](base::Result<void> removed) {
        if (!removed) return respond(error_response(removed.error()));
        respond(json_response(200, {{"id", id}, {"removed", true}}));
    });
}

}  // namespace gaffer::api::detail
