#include "coordinator/api/detail/device_routes.hpp"
#include "coordinator/api/detail/json_views.hpp"

namespace gaffer::api::detail {
namespace {

// The shadow service's answer goes out as it came: the AWS code is the HTTP status, so
// an AWS client library's error handling works on it unchanged.
http::Response pass_through(ShadowAnswer answer) {
    http::Response r;
    // A status HTTP cannot carry would be a bug in the shadow service; 500 says so
    // without corrupting the connection.
    r.status = answer.status >= 200 && answer.status <= 599 ? answer.status : 500;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = std::move(answer.body);
    return r;
}

}  // namespace

http::Response shadow(RouteContext& ctx, std::string_view thing) {
    if (!valid_thing_name(thing)) return invalid_request(thing_name_problem("thing", thing));
    auto name = query_param(ctx.request.query, "name");
    if (!name) return error_response(name.error());
    // ?name absent is the classic shadow; an empty ?name= is a mistake, not "classic".
    if (*name && !valid_shadow_name(**name)) {
        return invalid_request("name: " + base::quoted(**name) +
                               " is not a shadow name (1 to 64 letters, digits, ':', '_', '-')");
    }
    const std::string shadow_name = name->value_or("");
    const std::string& method = ctx.request.method;
    if (method == "GET") return pass_through(ctx.devices->get_shadow(thing, shadow_name));
    if (method == "DELETE") return pass_through(ctx.devices->delete_shadow(thing, shadow_name));

    if (auto over = body_over(ctx, kMaxShadowBodyBytes)) return std::move(*over);
    if (auto problem = json_problem(ctx.request.body)) {
        return invalid_request("body is not JSON: " + *problem);
    }
    return pass_through(ctx.devices->update_shadow(thing, shadow_name, ctx.request.body));
}

}  // namespace gaffer::api::detail
