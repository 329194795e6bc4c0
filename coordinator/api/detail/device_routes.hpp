// The device, shadow and message-route handlers behind Router (/v1/devices..., /v1/routes).
// Private to coordinator/api.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "coordinator/api/detail/routes.hpp"

namespace gaffer::api::detail {

// Request bodies these routes accept, well under the server's limit: a device document or
// a route is small, and a shadow update carries at most 8 KiB of state (the shadow
// service answers AWS's 413 above that, so its limit here leaves room for the rest).
inline constexpr std::size_t kMaxDeviceBodyBytes = 64 * 1024;
inline constexpr std::size_t kMaxRouteBodyBytes = 16 * 1024;
inline constexpr std::size_t kMaxShadowBodyBytes = 64 * 1024;

// Answers and returns true when the path is a device, shadow or message-route path:
// 405 for a wrong method, then 503 when ctx.devices is null, else the handler's answer.
// Returns false (and does not answer) for any other path.
bool dispatch_devices(RouteContext& ctx, Router::Respond& respond);

// Handlers; ctx.devices is not null. The async ones answer through `respond` later.
void add_device(RouteContext& ctx, Router::Respond respond);
http::Response list_devices(RouteContext& ctx);
http::Response show_device(RouteContext& ctx, std::string_view thing);
void remove_device(RouteContext& ctx, std::string_view thing, Router::Respond respond);
void rotate_credentials(RouteContext& ctx, std::string_view thing, Router::Respond respond);
http::Response shadow(RouteContext& ctx, std::string_view thing);  // GET, POST, DELETE
void add_route(RouteContext& ctx, Router::Respond respond);
http::Response list_routes(RouteContext& ctx);
void remove_route(RouteContext& ctx, std::string_view id, Router::Respond respond);

// The shared naming rules (docs/api.md): things 1..128, shadows 1..64 bytes of
// [a-zA-Z0-9:_-].
bool valid_thing_name(std::string_view name);
bool valid_shadow_name(std::string_view name);
std::string thing_name_problem(std::string_view where, std::string_view name);

// The query parameter `key`, percent-decoded; nullopt when absent. Errors: invalid when
// it is there but badly encoded (http::find_query_param alone would say "absent").
base::Result<std::optional<std::string>> query_param(std::string_view query, std::string_view key);

// 413 when the request body is over `limit`; the message names the body and the limit.
std::optional<http::Response> body_over(const RouteContext& ctx, std::size_t limit);
// The body as a JSON object whose keys are all in `known`. Errors: invalid, with a message
// that names the problem ("unknown key 'x' (did you mean 'y'?)").
base::Result<nlohmann::json> parse_object(std::string_view body,
                                          std::initializer_list<std::string_view> known);
// obj[key] as a string: "key: missing" / "key: must be a string" otherwise.
base::Result<std::string> required_string(const nlohmann::json& obj, std::string_view key);

}  // namespace gaffer::api::detail
