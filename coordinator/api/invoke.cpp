#include <memory>
#include <optional>

#include "coordinator/api/detail/json_views.hpp"
#include "coordinator/api/detail/routes.hpp"

namespace gaffer::api::detail {
namespace {

using nlohmann::json;

constexpr std::string_view kStatusHeader = "X-Gaffer-Status";
constexpr std::string_view kIdHeader = "X-Gaffer-Invocation-Id";

// Task-level outcomes are 200 with X-Gaffer-Status; 4xx/5xx are reserved for API-level
// errors, so a client can tell "the task failed" from "the request failed".
http::Response outcome_response(const std::string& id, const InvocationOutcome& outcome) {
    http::Response r;
    if (outcome.status == InvocationStatus::ok) {
        r.headers = {{"Content-Type", "application/json"}};
        r.body = outcome.payload;
    } else {
        json body = {{"status", status_name(outcome.status)},
                     {"detail", outcome.detail},
                     {"error", outcome.payload}};
        r = json_response(200, body);
    }
    r.headers.emplace_back(std::string(kStatusHeader), std::string(status_name(outcome.status)));
    r.headers.emplace_back(std::string(kIdHeader), id);
    return r;
}

// A synchronous outcome may arrive before invoke() has returned the id (the Backend may
// finish at once); whichever of the two comes second sends the response.
struct PendingAnswer {
    Router::Respond respond;
    std::optional<std::string> id;
    std::optional<InvocationOutcome> outcome;
    bool answered = false;

    void try_answer() {
        if (answered || !id || !outcome) return;
        answered = true;
        respond(outcome_response(*id, *outcome));
    }
};

std::optional<bool> parse_async(const http::Request& request, std::string& wrong) {
    auto value = http::find_query_param(request.query, "async");
    if (!value || *value == "false" || *value == "0") return false;
    if (value->empty() || *value == "true" || *value == "1") return true;
    wrong = "async must be true or false, not '" + *value + "'";
    return std::nullopt;
}

}  // namespace

void invoke(RouteContext& ctx, std::string_view name, Router::Respond respond) {
    if (!valid_task_name(name)) return respond(bad_task_name(name));
    std::string wrong;
    const auto async = parse_async(ctx.request, wrong);
    if (!async) return respond(invalid_request(wrong));
    std::string payload = ctx.request.body.empty() ? std::string("{}") : ctx.request.body;
    if (auto problem = json_problem(payload)) {
        return respond(invalid_request("event is not JSON: " + *problem));
    }

    auto pending = std::make_shared<PendingAnswer>();
    pending->respond = std::move(respond);
    Backend::InvokeDone done;
    if (!*async) {
        done = [pending](const InvocationOutcome& outcome) {
            pending->outcome = outcome;
            pending->try_answer();
        };
    }
    auto id = ctx.backend.invoke(name, std::move(payload), *async, std::move(done));
    if (!id) {
        pending->answered = true;
        return pending->respond(error_response(id.error()));
    }
    if (*async) {
        http::Response r = json_response(202, {{"id", *id}});
        r.headers.emplace_back(std::string(kIdHeader), *id);
        pending->answered = true;
        return pending->respond(std::move(r));
    }
    pending->id = *id;
    pending->try_answer();
}

}  // namespace gaffer::api::detail
