// Endpoints and routes: parsing, printing and the rules a route must follow.
#include <algorithm>

#include "devices/routing/detail/topic_text.hpp"
#include "devices/routing/routing.hpp"

namespace gaffer::routing {
namespace {

using base::Errc;
using detail::shown;

constexpr std::string_view kDevicePrefix = "device:";
constexpr std::string_view kTaskPrefix = "task:";

bool thing_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
           c == '_' || c == '-';
}

bool task_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

std::optional<std::string> endpoint_problem(const Endpoint& endpoint) {
    switch (endpoint.kind) {
    case Endpoint::Kind::device:
        return thing_name_problem(endpoint.name);
    case Endpoint::Kind::task:
        return task_name_problem(endpoint.name);
    case Endpoint::Kind::shadow:
    case Endpoint::Kind::cloud:
        if (!endpoint.name.empty())
            return to_string(Endpoint{endpoint.kind, {}}) + " takes no name (got " + shown(endpoint.name) + ")";
        return std::nullopt;
    }
    return std::string("unknown endpoint kind");
}

std::size_t level_count(std::string_view filter) {
    return static_cast<std::size_t>(std::count(filter.begin(), filter.end(), '/')) + 1;
}

// "$aws/things/<at least one more level>"
bool under_aws_things(std::string_view filter) {
    detail::LevelReader levels(filter);
    if (levels.next() != "$aws" || levels.done()) return false;
    return levels.next() == "things" && !levels.done();
}

base::Result<void> endpoint_ok(std::string_view field, const Endpoint& endpoint) {
    if (auto problem = endpoint_problem(endpoint))
        return base::fail(Errc::invalid, std::string(field) + ": " + *problem);
    if (endpoint.kind == Endpoint::Kind::cloud)
        return base::fail(Errc::invalid, std::string(field) + ": cloud routes arrive with cloud sync");
    return {};
}

}  // namespace

std::optional<std::string> thing_name_problem(std::string_view name) {
    if (!name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), thing_char))
        return std::nullopt;
    return shown(name) + " is not a valid thing name (1-128 of a-z A-Z 0-9 : _ -)";
}

// The rule of tasks/manifest (manifest::Manifest::name), repeated here because devices/
// depends only on coordinator/base.
std::optional<std::string> task_name_problem(std::string_view name) {
    const bool ok = !name.empty() && name.size() <= 63 && name.front() != '_' && name.front() != '.' &&
                    name.front() != '-' && std::all_of(name.begin(), name.end(), task_char);
    if (ok) return std::nullopt;
    return shown(name) + " is not a valid task name (1-63 of a-z 0-9 _ . -, starting with a-z or 0-9)";
}

base::Result<Endpoint> parse_endpoint(std::string_view text) {
    Endpoint endpoint;
    if (text == "shadow") {
        endpoint.kind = Endpoint::Kind::shadow;
    } else if (text == "cloud") {
        endpoint.kind = Endpoint::Kind::cloud;
    } else if (text.starts_with(kDevicePrefix)) {
        endpoint.kind = Endpoint::Kind::device;
        endpoint.name = std::string(text.substr(kDevicePrefix.size()));
    } else if (text.starts_with(kTaskPrefix)) {
        endpoint.kind = Endpoint::Kind::task;
        endpoint.name = std::string(text.substr(kTaskPrefix.size()));
    } else {
        return base::fail(Errc::invalid, shown(text) +
                                             " is not an endpoint (write device:<thing>, "
                                             "task:<name>, shadow or cloud)");
    }
    if (auto problem = endpoint_problem(endpoint)) return base::fail(Errc::invalid, *problem);
    return endpoint;
}

std::string to_string(const Endpoint& endpoint) {
    switch (endpoint.kind) {
    case Endpoint::Kind::device:
        return std::string(kDevicePrefix) + endpoint.name;
    case Endpoint::Kind::task:
        return std::string(kTaskPrefix) + endpoint.name;
    case Endpoint::Kind::shadow:
        return "shadow";
    case Endpoint::Kind::cloud:
        return "cloud";
    }
    return "unknown";
}

base::Result<void> validate_route(const Route& route) {
    if (auto ok = endpoint_ok("source", route.source); !ok) return ok;
    if (auto ok = validate_filter(route.filter); !ok) return ok;
    if (level_count(route.filter) > kMaxFilterLevels)
        return base::fail(Errc::invalid, "filter: " + shown(route.filter) + " has " +
                                             std::to_string(level_count(route.filter)) +
                                             " levels (a route allows at most " +
                                             std::to_string(kMaxFilterLevels) + ")");
    if (auto ok = endpoint_ok("target", route.target); !ok) return ok;

    const bool from_shadow = route.source.kind == Endpoint::Kind::shadow;
    const bool to_shadow = route.target.kind == Endpoint::Kind::shadow;
    if (from_shadow && to_shadow)
        return base::fail(Errc::invalid, "target: shadow -> shadow is not a route (the shadow "
                                         "service answers its own requests)");
    if (route.source == route.target)
        return base::fail(Errc::invalid, "target: the same endpoint as the source (" +
                                             to_string(route.source) + "); a route joins two endpoints");
    if (from_shadow || to_shadow) {
        if (!under_aws_things(route.filter))
            return base::fail(Errc::invalid,
                              "filter: a route from or to shadow needs a filter under $aws/things/ "
                              "(e.g. $aws/things/+/shadow/update/delta), not " + shown(route.filter));
    } else if (route.filter.front() == '$') {
        return base::fail(Errc::invalid,
                          "filter: " + shown(route.filter) +
                              " starts with '$': those topics belong to the broker and the shadow "
                              "service (only a route from or to shadow may use $aws/things/...)");
    }
    return {};
}

base::Result<Route> make_route(std::string_view source, std::string_view filter,
                               std::string_view target) {
    Route route;
    auto parsed_source = parse_endpoint(source);
    if (!parsed_source) return base::fail(Errc::invalid, "source: " + parsed_source.error().message);
    route.source = std::move(*parsed_source);
    route.filter = std::string(filter);
    auto parsed_target = parse_endpoint(target);
    if (!parsed_target) {
        // A bad filter is reported before a bad target, in field order.
        if (auto ok = validate_filter(filter); !ok) return tl::unexpected(ok.error());
        return base::fail(Errc::invalid, "target: " + parsed_target.error().message);
    }
    route.target = std::move(*parsed_target);
    if (auto ok = validate_route(route); !ok) return tl::unexpected(ok.error());
    return route;
}

bool carried_by_broker(const Route& route) {
    return route.source.kind == Endpoint::Kind::device && route.target.kind == Endpoint::Kind::device;
}

std::vector<std::string> affected_devices(const Route& route) {
    std::vector<std::string> devices;
    if (route.source.kind == Endpoint::Kind::device) devices.push_back(route.source.name);
    if (route.target.kind == Endpoint::Kind::device && route.target != route.source)
        devices.push_back(route.target.name);
    return devices;
}

}  // namespace gaffer::routing
