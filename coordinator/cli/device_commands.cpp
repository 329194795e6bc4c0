#include <iostream>

#include "coordinator/cli/cli.hpp"
#include "coordinator/cli/detail/device_text.hpp"
#include "coordinator/cli/detail/exchange.hpp"

namespace gaffer::cli::detail {
using nlohmann::json;

int device_add(const Globals& g, const DeviceAddArgs& args) {
    auto doc = device_document(args.thing, args.attributes, args.groups);
    if (!doc) return fail(exit_usage, doc.error().message);
    int code = exit_ok;
    auto r = request(g, "POST", "/v1/devices", code, std::move(*doc));
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    auto j = body_json(*r, code);
    if (!j) return code;
    const json& device = member(*j, "device");
    std::cout << "created device " << args.thing << '\n';
    if (member(device, "credentials") == "pending") {
        std::cout << "The broker could not be reached: these credentials take effect when gafferd "
                     "reaches it.\n";
    }
    std::cout << format_credentials(member(*j, "credentials"));
    return exit_ok;
}

int device_list(const Globals& g, const std::string& after, std::size_t limit) {
    std::string target = "/v1/devices?limit=" + std::to_string(limit);
    if (!after.empty()) target += "&after=" + query_value(after);
    int code = exit_ok;
    auto r = request(g, "GET", target, code);
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    auto j = body_json(*r, code);
    if (!j) return code;
    std::cout << format_device_table(member(*j, "devices"));
    if (auto next = j->find("next"); next != j->end() && next->is_string()) {
        std::cerr << "more devices follow: gaffer device list --after " << next->get<std::string>() << '\n';
    }
    return exit_ok;
}

int device_show(const Globals& g, const std::string& thing) {
    int code = exit_ok;
    auto r = request(g, "GET", "/v1/devices/" + segment(thing), code);
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    auto j = body_json(*r, code);
    if (!j) return code;
    std::cout << format_device(*j);
    return exit_ok;
}

int device_remove(const Globals& g, const std::string& thing) {
    int code = exit_ok;
    auto r = request(g, "DELETE", "/v1/devices/" + segment(thing), code);
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    std::cout << "removed device " << thing << " (its credentials and shadows are gone)\n";
    return exit_ok;
}

int device_credentials(const Globals& g, const std::string& thing) {
    int code = exit_ok;
    auto r = request(g, "POST", "/v1/devices/" + segment(thing) + "/credentials", code);
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    auto j = body_json(*r, code);
    if (!j) return code;
    std::cout << "rotated the credentials of " << thing << ": the old password no longer works\n"
              << format_credentials(member(*j, "credentials"));
    return exit_ok;
}

}  // namespace gaffer::cli::detail
