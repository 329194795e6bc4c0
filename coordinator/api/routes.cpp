#include <charconv>

#include "coordinator/api/detail/json_views.hpp"
#include "coordinator/api/detail/routes.hpp"

namespace gaffer::api::detail {

using nlohmann::json;

namespace {

std::optional<unsigned long> parse_unsigned(std::string_view text) {
    unsigned long value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string_view last_lines(std::string_view text, unsigned lines) {
    if (lines == 0) return {};
    std::size_t end = text.size();
    if (end > 0 && text[end - 1] == '\n') --end;  // the final newline ends the last line
    std::size_t at = end;
    for (unsigned seen = 0; at > 0; --at) {
        if (text[at - 1] == '\n' && ++seen == lines) break;
    }
    return text.substr(at);
}

}  // namespace

http::Response invalid_request(std::string message) {
    return error_response(base::Error{base::Errc::invalid, std::move(message)});
}

std::optional<std::string> json_problem(std::string_view text) {
    // accept() checks without building a tree; only a bad document is parsed again, for
    // the message that says where it went wrong.
    if (json::accept(text)) return std::nullopt;
    try {
        const json parsed = json::parse(text);
        return "not a single JSON value";
    } catch (const json::parse_error& e) {
        std::string what = e.what();
        // Drop nlohmann's "[json.exception.parse_error.101] " tag: it means nothing to users.
        if (const auto close = what.find("] "); what.rfind("[json.", 0) == 0 && close != std::string::npos) {
            what.erase(0, close + 2);
        }
        return what;
    }
}

bool valid_task_name(std::string_view name) {
    if (name.empty() || name.size() > 63) return false;
    auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!lower_or_digit(name[0])) return false;
    for (const char c : name) {
        if (!lower_or_digit(c) && c != '_' && c != '.' && c != '-') return false;
    }
    return true;
}

bool valid_invocation_id(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (const char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok) return false;
    }
    return true;
}

http::Response bad_task_name(std::string_view name) {
    return invalid_request("'" + std::string(name) +
                   "' is not a task name (lowercase letters, digits, '_', '.', '-'; at most 63)");
}

http::Response list_tasks(RouteContext& ctx) {
    auto tasks = ctx.backend.list_tasks();
    if (!tasks) return error_response(tasks.error());
    json list = json::array();
    for (const auto& t : *tasks) list.push_back(to_json(t, false));
    return json_response(200, {{"tasks", std::move(list)}});
}

http::Response put_task(RouteContext& ctx) {
    if (auto problem = json_problem(ctx.request.body)) {
        return invalid_request("manifest is not JSON: " + *problem);
    }
    auto put = ctx.backend.put_task(ctx.request.body);
    if (!put) return error_response(put.error());
    return json_response(put->created ? 201 : 200, to_json(put->task, true));
}

http::Response show_task(RouteContext& ctx, std::string_view name) {
    if (!valid_task_name(name)) return bad_task_name(name);
    auto task = ctx.backend.show_task(name);
    if (!task) return error_response(task.error());
    return json_response(200, to_json(*task, true));
}

http::Response remove_task(RouteContext& ctx, std::string_view name) {
    if (!valid_task_name(name)) return bad_task_name(name);
    if (auto removed = ctx.backend.remove_task(name); !removed) return error_response(removed.error());
    return json_response(200, {{"name", name}, {"removed", true}});
}

http::Response read_logs(RouteContext& ctx, std::string_view name) {
    if (!valid_task_name(name)) return bad_task_name(name);
    unsigned lines = ctx.options.default_log_lines;
    if (auto tail = http::find_query_param(ctx.request.query, "tail")) {
        auto n = parse_unsigned(*tail);
        if (!n || *n > ctx.options.max_log_lines) {
            return invalid_request("tail must be a number of lines from 0 to " +
                           std::to_string(ctx.options.max_log_lines) + ", not '" + *tail + "'");
        }
        lines = static_cast<unsigned>(*n);
    }
    auto text = ctx.backend.read_logs(name, ctx.options.max_log_tail_bytes);
    if (!text) return error_response(text.error());
    http::Response r;
    r.headers = {{"Content-Type", "text/plain; charset=utf-8"}};
    r.body = std::string(last_lines(*text, lines));
    return r;
}

http::Response show_invocation(RouteContext& ctx, std::string_view id) {
    if (!valid_invocation_id(id)) return invalid_request("'" + std::string(id) + "' is not an invocation id");
    auto view = ctx.backend.show_invocation(id);
    if (!view) return error_response(view.error());
    return json_response(200, to_json(*view));
}

http::Response list_environments(RouteContext& ctx) {
    auto envs = ctx.backend.list_environments();
    if (!envs) return error_response(envs.error());
    json list = json::array();
    for (const auto& e : *envs) list.push_back(to_json(e));
    return json_response(200, {{"environments", std::move(list)}});
}

}  // namespace gaffer::api::detail
