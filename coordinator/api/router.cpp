#include <optional>
#include <string>
#include <vector>

#include "coordinator/api/api.hpp"
#include "coordinator/api/detail/json_views.hpp"
#include "coordinator/api/detail/metrics_text.hpp"
#include "coordinator/api/detail/device_routes.hpp"
#include "coordinator/api/detail/routes.hpp"

namespace gaffer::api {

using nlohmann::json;

struct Router::State {
    State(Backend& b, RouterOptions o, DeviceBackend* d) : backend(b), devices(d), options(o) {}
    Backend& backend;
    DeviceBackend* devices;
    RouterOptions options;
    std::map<int, std::uint64_t> responses;
};

namespace {

using detail::json_response;

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    if (!path.empty() && path.back() == '/') path.remove_suffix(1);
    while (!path.empty() || parts.empty()) {
        const std::size_t slash = path.find('/');
        parts.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
        if (path.empty()) parts.emplace_back();
    }
    return parts;
}

}  // namespace

Router::Router(Backend& backend, RouterOptions options, DeviceBackend* devices)
    : state_(std::make_shared<State>(backend, options, devices)) {}
Router::~Router() = default;

void Router::set_device_backend(DeviceBackend* devices) { state_->devices = devices; }

void Router::count_response(int status) { ++state_->responses[status]; }
std::map<int, std::uint64_t> Router::response_counts() const { return state_->responses; }

void Router::handle(const http::Request& request, Respond respond) {
    // Counting goes through the shared State so that a late answer (synchronous invoke)
    // is counted even if the Router is gone by then.
    Respond counted = [state = state_, respond = std::move(respond)](http::Response r) {
        ++state->responses[r.status];
        respond(std::move(r));
    };
    detail::RouteContext ctx{state_->backend, state_->devices, state_->options, request,
                             split_path(request.path)};
    detail::dispatch(ctx, std::move(counted), state_->responses);
}

namespace detail {

http::Response method_not_allowed(const RouteContext& ctx, std::string_view allowed) {
    http::Response r = error_response(405, "invalid",
                                      "method " + ctx.request.method + " is not allowed on " +
                                          ctx.request.path + " (allowed: " + std::string(allowed) + ")");
    r.headers.emplace_back("Allow", std::string(allowed));
    return r;
}

void dispatch(RouteContext& ctx, Router::Respond respond,
              const std::map<int, std::uint64_t>& response_counts) {
    const auto& seg = ctx.segments;
    const std::string& method = ctx.request.method;
    auto allow = [&](std::string_view allowed) { respond(method_not_allowed(ctx, allowed)); };

    if (seg.size() == 1 && seg[0] == "metrics") {
        if (method != "GET") return allow("GET");
        http::Response r;
        r.headers = {{"Content-Type", std::string(kMetricsContentType)}};
        std::optional<DeviceMetrics> devices;
        if (ctx.devices) devices = ctx.devices->device_metrics();
        r.body = format_metrics(ctx.backend.metrics(), response_counts, devices ? &*devices : nullptr);
        return respond(std::move(r));
    }
    if (dispatch_devices(ctx, respond)) return;
    if (seg.size() >= 2 && seg[0] == "v1") {
        const std::string_view what = seg[1];
        if (what == "status" && seg.size() == 2) {
            if (method != "GET") return allow("GET");
            return respond(json_response(200, to_json(ctx.backend.status())));
        }
        if (what == "environments" && seg.size() == 2) {
            if (method != "GET") return allow("GET");
            return respond(list_environments(ctx));
        }
        if (what == "invocations" && seg.size() == 3) {
            if (method != "GET") return allow("GET");
            return respond(show_invocation(ctx, seg[2]));
        }
        if (what == "tasks" && seg.size() == 2) {
            if (method == "GET") return respond(list_tasks(ctx));
            if (method == "POST") return respond(put_task(ctx));
            return allow("GET, POST");
        }
        if (what == "tasks" && seg.size() == 3) {
            if (method == "GET") return respond(show_task(ctx, seg[2]));
            if (method == "DELETE") return respond(remove_task(ctx, seg[2]));
            return allow("GET, DELETE");
        }
        if (what == "tasks" && seg.size() == 4 && seg[3] == "invoke") {
            if (method != "POST") return allow("POST");
            return invoke(ctx, seg[2], std::move(respond));
        }
        if (what == "tasks" && seg.size() == 4 && seg[3] == "logs") {
            if (method != "GET") return allow("GET");
            return respond(read_logs(ctx, seg[2]));
        }
    }
    respond(error_response(404, "not_found", "no route for " + ctx.request.path));
}

}  // namespace detail
}  // namespace gaffer::api
