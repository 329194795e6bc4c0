#include "coordinator/daemon/device_backend.hpp"

namespace gaffer::daemon {

DeviceBackend::DeviceBackend(const config::Config& config, hub::Hub& hub, store::Database& database)
    : config_(config), hub_(hub), database_(database) {}

DeviceBackend::~DeviceBackend() { *alive_ = false; }

api::DeviceView DeviceBackend::view_of(const store::StoredDevice& row) {
    api::DeviceView view;
    view.thing = row.thing;
    view.attributes_json = row.attributes_json;
    view.groups = row.groups;
    view.created_at_ms = row.created_at;
    view.credentials = row.credentials;
    if (auto presence = hub_.presence(row.thing)) {
        view.connected = presence->connected;
        view.presence_changed_at_ms = presence->since_ms;
    }
    if (auto names = database_.list_shadow_names(row.thing)) view.shadows = std::move(*names);
    return view;
}

api::Credentials DeviceBackend::credentials_for(const std::string& thing, std::string password) const {
    const auto& broker = config_.broker.advertised_uri.empty() ? config_.broker.uri : config_.broker.advertised_uri;
    return api::Credentials{thing, thing, thing, std::move(password), broker};
}

void DeviceBackend::add_device(std::string_view device_json,
                               std::function<void(base::Result<std::pair<api::DeviceView, api::Credentials>>)> done) {
    auto device = registry::parse_device(device_json);
    if (!device) return done(tl::unexpected(device.error()));
    std::string thing = device->thing;
    hub_.add_device(std::move(*device), [this, alive = alive_, thing, done = std::move(done)](
                                            base::Result<registry::Registry::Enrollment> enrolled) {
        if (!*alive) return done(base::fail(base::Errc::unavailable, "gafferd is shutting down"));
        if (!enrolled) return done(tl::unexpected(enrolled.error()));
        if (!enrolled->detail.empty())
            base::log_warning("device " + thing + " recorded with pending credentials: " + enrolled->detail);
        auto row = database_.find_device(thing);
        if (!row) return done(tl::unexpected(row.error()));
        done(std::pair{view_of(*row), credentials_for(thing, std::move(enrolled->password))});
    });
}

base::Result<std::vector<api::DeviceView>> DeviceBackend::list_devices(std::string_view after, std::size_t limit) {
    auto rows = database_.list_devices(after, limit);
    if (!rows) return tl::unexpected(rows.error());
    std::vector<api::DeviceView> out;
    out.reserve(rows->size());
    for (const auto& row : *rows) out.push_back(view_of(row));
    return out;
}

base::Result<api::DeviceView> DeviceBackend::show_device(std::string_view thing) {
    auto row = database_.find_device(thing);
    if (!row) return tl::unexpected(row.error());
    return view_of(*row);
}

void DeviceBackend::remove_device(std::string_view thing, std::function<void(base::Result<void>)> done) {
    hub_.remove_device(std::string(thing), [alive = alive_, done = std::move(done)](base::Result<void> removed) {
        if (!*alive) return done(base::fail(base::Errc::unavailable, "gafferd is shutting down"));
        done(std::move(removed));
    });
}

void DeviceBackend::rotate_credentials(std::string_view thing, std::function<void(base::Result<api::Credentials>)> done) {
    hub_.rotate_credentials(std::string(thing), [this, alive = alive_, thing = std::string(thing),
                                                 done = std::move(done)](base::Result<std::string> password) {
        if (!*alive) return done(base::fail(base::Errc::unavailable, "gafferd is shutting down"));
        if (!password) return done(tl::unexpected(password.error()));
        done(credentials_for(thing, std::move(*password)));
    });
}

api::ShadowAnswer DeviceBackend::get_shadow(std::string_view thing, std::string_view name) {
    auto answer = hub_.get_shadow(shadow::Key{std::string(thing), std::string(name)});
    return api::ShadowAnswer{answer.status, std::move(answer.body)};
}

api::ShadowAnswer DeviceBackend::update_shadow(std::string_view thing, std::string_view name,
                                               std::string_view request_json) {
    auto answer = hub_.update_shadow(shadow::Key{std::string(thing), std::string(name)}, request_json);
    return api::ShadowAnswer{answer.status, std::move(answer.body)};
}

api::ShadowAnswer DeviceBackend::delete_shadow(std::string_view thing, std::string_view name) {
    auto answer = hub_.delete_shadow(shadow::Key{std::string(thing), std::string(name)});
    return api::ShadowAnswer{answer.status, std::move(answer.body)};
}

void DeviceBackend::add_route(std::string_view source, std::string_view filter, std::string_view target,
                              std::function<void(base::Result<api::RouteView>)> done) {
    // Filled in below, before the hub runs `applied` (always on a later loop turn).
    auto view = std::make_shared<api::RouteView>();
    auto route = hub_.add_route(source, filter, target, [view, done] { done(*view); });
    if (!route) return done(tl::unexpected(route.error()));
    *view = api::RouteView{route->id, routing::to_string(route->source), route->filter,
                           routing::to_string(route->target), base::wall_epoch_millis()};
}

base::Result<std::vector<api::RouteView>> DeviceBackend::list_routes() {
    auto rows = database_.list_routes();
    if (!rows) return tl::unexpected(rows.error());
    std::vector<api::RouteView> out;
    out.reserve(rows->size());
    for (const auto& row : *rows) out.push_back(api::RouteView{row.id, row.source, row.filter, row.target, row.created_at});
    return out;
}

void DeviceBackend::remove_route(std::int64_t id, std::function<void(base::Result<void>)> done) {
    if (auto removed = hub_.remove_route(id, [done] { done({}); }); !removed) done(removed);
}

api::DeviceMetrics DeviceBackend::device_metrics() {
    auto out = hub_.metrics();
    if (auto n = database_.count_devices()) out["gaffer_devices"] = *n;
    return out;
}

}  // namespace gaffer::daemon
