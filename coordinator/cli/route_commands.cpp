#include <iostream>

#include "coordinator/cli/cli.hpp"
#include "coordinator/cli/detail/device_text.hpp"
#include "coordinator/cli/detail/exchange.hpp"

namespace gaffer::cli::detail {

using nlohmann::json;

int route_add(const Globals& g, const std::string& source, const std::string& filter,
              const std::string& target) {
    const json body = {{"source", source}, {"filter", filter}, {"target", target}};
    int code = exit_ok;
    auto r = request(g, "POST", "/v1/routes", code, body.dump());
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    auto j = body_json(*r, code);
    if (!j) return code;
    std::cout << "added route " << text(member(*j, "id")) << ": " << source << " -> " << target
              << " on " << filter << '\n';
    return exit_ok;
}

int route_list(const Globals& g) {
    int code = exit_ok;
    auto r = request(g, "GET", "/v1/routes", code);
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    auto j = body_json(*r, code);
    if (!j) return code;
    std::cout << format_route_table(member(*j, "routes"));
    return exit_ok;
}

int route_remove(const Globals& g, std::int64_t id) {
    int code = exit_ok;
    auto r = request(g, "DELETE", "/v1/routes/" + std::to_string(id), code);
    if (!r) return code;
    if (g.json) return print_raw(r->body), exit_ok;
    std::cout << "removed route " << id << '\n';
    return exit_ok;
}

}  // namespace gaffer::cli::detail
