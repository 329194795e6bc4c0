#include <iostream>

#include "coordinator/cli/cli.hpp"
#include "coordinator/cli/detail/device_text.hpp"
#include "coordinator/cli/detail/exchange.hpp"

namespace gaffer::cli::detail {
namespace {

using nlohmann::json;

std::string shadow_target(const ShadowArgs& args) {
    std::string target = "/v1/devices/" + segment(args.thing) + "/shadow";
    if (args.name) target += "?name=" + query_value(*args.name);
    return target;
}

// A shadow call: the AWS rejection ({"code", "message"}) is reported with its code, and
// exits like an API error of that status (404 -> 3, 400/413 -> 4, 409 -> 8, ...).
std::optional<http::Response> shadow_call(const Globals& g, const std::string& method,
                                          const ShadowArgs& args, int& code, std::string body = {}) {
    auto r = exchange(g, method, shadow_target(args), code, std::move(body));
    if (!r) return std::nullopt;
    if (r->status < 300) return r;
    if (g.json) std::cout << r->body;
    if (auto rejected = shadow_rejection(*r)) {
        code = fail(exit_code_for(*r), "the shadow service rejected the request for " + shadow_label(args.name) +
                                           " of " + args.thing + ": " + *rejected);
    } else {
        code = fail(exit_code_for(*r), error_message(*r));
    }
    return std::nullopt;
}

int print_document(const Globals& g, const http::Response& r) {
    if (g.json) return print_raw(r.body), exit_ok;
    int code = exit_ok;
    auto j = body_json(r, code);
    if (!j) return code;
    std::cout << j->dump(2) << '\n';
    return exit_ok;
}

}  // namespace

int shadow_get(const Globals& g, const ShadowArgs& args) {
    int code = exit_ok;
    auto r = shadow_call(g, "GET", args, code);
    return r ? print_document(g, *r) : code;
}

int shadow_update(const Globals& g, const ShadowArgs& args) {
    if (args.document.has_value() == args.file.has_value()) {
        return fail(exit_usage, "shadow update: give the request as a JSON argument, with --file F, "
                                "or - to read standard input");
    }
    std::string body;
    if (args.file || *args.document == "-") {
        auto in = read_input(args.file ? *args.file : std::string("-"));
        if (!in) return fail_local(in.error());
        body = std::move(*in);
    } else {
        body = *args.document;
    }
    if (!json::accept(body)) return fail(exit_invalid, "the update request is not JSON");
    int code = exit_ok;
    auto r = shadow_call(g, "POST", args, code, std::move(body));
    return r ? print_document(g, *r) : code;
}

int shadow_delete(const Globals& g, const ShadowArgs& args) {
    int code = exit_ok;
    auto r = shadow_call(g, "DELETE", args, code);
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    auto j = body_json(*r, code);
    if (!j) return code;
    std::cout << "deleted " << shadow_label(args.name) << " of " << args.thing;
    if (!member(*j, "version").is_null()) std::cout << " (version " << text(member(*j, "version")) << ")";
    std::cout << '\n';
    return exit_ok;
}

}  // namespace gaffer::cli::detail
