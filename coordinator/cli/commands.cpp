#include "coordinator/cli/detail/commands.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "coordinator/cli/cli.hpp"
#include "coordinator/cli/detail/exchange.hpp"

namespace gaffer::cli::detail {

using nlohmann::json;

int task_add(const Globals& g, const std::string& file) {
    auto text_in = read_input(file);
    if (!text_in) return fail(exit_invalid, text_in.error().message);
    const std::string base_dir =
        file == "-" ? std::string(".") : std::filesystem::path(file).parent_path().string();
    auto manifest = resolve_artifact_dir(*text_in, base_dir.empty() ? "." : base_dir);
    if (!manifest) return fail(exit_invalid, file + ": " + manifest.error().message);
    int code = exit_ok;
    auto r = request(g, "POST", "/v1/tasks", code, *manifest);
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    auto j = body_json(*r, code);
    if (!j) return code;
    std::cout << (r->status == 201 ? "created" : "replaced") << " task " << text((*j)["name"])
              << " (version " << text(j->value("version", json())) << ")\n";
    return exit_ok;
}

int task_list(const Globals& g) {
    int code = exit_ok;
    auto r = request(g, "GET", "/v1/tasks", code);
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    auto j = body_json(*r, code);
    if (!j) return code;
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : j->value("tasks", json::array())) {
        rows.push_back({text(t["name"]), text(t["version"]), text(t["mode"]), text(t["state"]),
                        text(t["queued"]), text(t["running"]), text(t["environments"]),
                        text(t["recent_failures"])});
    }
    std::cout << format_table({"NAME", "VERSION", "MODE", "STATE", "QUEUED", "RUNNING", "ENVS", "FAILURES"},
                              rows);
    return exit_ok;
}

int task_show(const Globals& g, const std::string& name) {
    int code = exit_ok;
    auto r = request(g, "GET", "/v1/tasks/" + segment(name), code);
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    auto j = body_json(*r, code);
    if (!j) return code;
    for (const char* key : {"name", "version", "owner", "mode", "state", "queued", "running",
                            "environments", "recent_failures"}) {
        std::cout << key << ": " << text(j->value(key, json())) << '\n';
    }
    if (j->contains("manifest")) std::cout << "manifest:\n" << (*j)["manifest"].dump(2) << '\n';
    return exit_ok;
}

int task_remove(const Globals& g, const std::string& name) {
    int code = exit_ok;
    auto r = request(g, "DELETE", "/v1/tasks/" + segment(name), code);
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    std::cout << "removed task " << name << '\n';
    return exit_ok;
}

int task_invoke(const Globals& g, const InvokeArgs& args) {
    std::string payload = args.payload.value_or("{}");
    if (args.payload_file) {
        auto in = read_input(*args.payload_file);
        if (!in) return fail_local(in.error());
        payload = std::move(*in);
    }
    std::string target = "/v1/tasks/" + segment(args.name) + "/invoke";
    if (args.async) target += "?async=true";
    int code = exit_ok;
    auto r = request(g, "POST", target, code, std::move(payload));
    if (!r) return code;
    const std::string* id = http::find_header(r->headers, "X-Gaffer-Invocation-Id");
    if (args.async && !g.json) {
        std::cout << (id ? *id : std::string("-")) << '\n';
        return exit_ok;
    }
    print_raw(r->body);
    code = exit_code_for(*r);
    if (code == exit_invocation_failed) {
        const std::string* status = http::find_header(r->headers, "X-Gaffer-Status");
        auto j = json::parse(r->body, nullptr, false);
        std::string detail = j.is_object() ? text(j.value("detail", json(""))) : std::string();
        fail(code, "invocation " + (id ? *id : std::string("?")) + " of " + args.name + " ended " +
                       *status + (detail.empty() ? "" : ": " + detail));
    }
    return code;
}

int task_logs(const Globals& g, const std::string& name, unsigned tail) {
    int code = exit_ok;
    auto r = request(g, "GET", "/v1/tasks/" + segment(name) + "/logs?tail=" + std::to_string(tail), code);
    if (!r) return code;
    std::cout << r->body;
    return exit_ok;
}

int invocation_show(const Globals& g, const std::string& id) {
    int code = exit_ok;
    auto r = request(g, "GET", "/v1/invocations/" + segment(id), code);
    if (!r) return code;
    auto j = body_json(*r, code);
    if (!j) return code;
    const bool failed = j->value("state", "") == "finished" && j->value("status", "") != "ok";
    if (g.json) {
        print_raw(r->body);
    } else {
        for (const char* key : {"id", "task", "state", "status", "accepted_at_ms", "finished_at_ms", "detail"}) {
            if (j->contains(key)) std::cout << key << ": " << text((*j)[key]) << '\n';
        }
        if (j->contains("response")) std::cout << "response: " << text((*j)["response"]) << '\n';
    }
    return failed ? exit_invocation_failed : exit_ok;
}

int env_list(const Globals& g) {
    int code = exit_ok;
    auto r = request(g, "GET", "/v1/environments", code);
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    auto j = body_json(*r, code);
    if (!j) return code;
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : j->value("environments", json::array())) {
        std::ostringstream age;
        age.precision(1);
        age << std::fixed << e.value("age_seconds", 0.0) << 's';
        rows.push_back({text(e["id"]), text(e["task"]), text(e["state"]), age.str(), text(e["invocations"])});
    }
    std::cout << format_table({"ID", "TASK", "STATE", "AGE", "INVOCATIONS"}, rows);
    return exit_ok;
}

int status(const Globals& g) {
    int code = exit_ok;
    auto r = request(g, "GET", "/v1/status", code);
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    auto j = body_json(*r, code);
    if (!j) return code;
    for (const auto& [key, value] : j->items()) std::cout << key << ": " << text(value) << '\n';
    return exit_ok;
}

}  // namespace gaffer::cli::detail
