// Which device messages the plugin hands to gafferd before acknowledging them.
#include <algorithm>

#include "devices/ingest/ingest.hpp"
#include "devices/routing/routing.hpp"

namespace gaffer::ingest {

std::vector<RouteFilter> durable_routes(const routing::RouteTable& table) {
    using Kind = routing::Endpoint::Kind;
    std::vector<RouteFilter> out;
    for (const routing::Route& route : table.all())
        if (route.source.kind == Kind::device && route.target.kind == Kind::task)
            out.push_back(RouteFilter{route.source.name, route.filter});
    std::sort(out.begin(), out.end(), [](const RouteFilter& a, const RouteFilter& b) {
        return std::tie(a.thing, a.filter) < std::tie(b.thing, b.filter);
    });
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace gaffer::ingest
