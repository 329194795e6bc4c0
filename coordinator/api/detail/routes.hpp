// The route handlers behind Router. Private to coordinator/api.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/api/api.hpp"

namespace gaffer::api::detail {

struct RouteContext {
    Backend& backend;
    DeviceBackend* devices;  // nullptr: the device routes answer 503
    const RouterOptions& options;
    const http::Request& request;
    std::vector<std::string_view> segments;  // of request.path, without empty ends
};

void dispatch(RouteContext& ctx, Router::Respond respond,
              const std::map<int, std::uint64_t>& response_counts);

http::Response list_tasks(RouteContext& ctx);
http::Response put_task(RouteContext& ctx);
http::Response show_task(RouteContext& ctx, std::string_view name);
http::Response remove_task(RouteContext& ctx, std::string_view name);
http::Response read_logs(RouteContext& ctx, std::string_view name);
http::Response show_invocation(RouteContext& ctx, std::string_view id);
http::Response list_environments(RouteContext& ctx);
// Answers through `respond`: later for a synchronous invocation.
void invoke(RouteContext& ctx, std::string_view name, Router::Respond respond);

// 405 with an Allow header listing `allowed`.
http::Response method_not_allowed(const RouteContext& ctx, std::string_view allowed);

bool valid_task_name(std::string_view name);  // the manifest's rule for names
bool valid_invocation_id(std::string_view id);
http::Response bad_task_name(std::string_view name);
http::Response invalid_request(std::string message);
// What is wrong with a JSON document, or nullopt when it parses.
std::optional<std::string> json_problem(std::string_view text);

}  // namespace gaffer::api::detail
