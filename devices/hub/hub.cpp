#include "devices/hub/hub.hpp"

#include <set>

#include "devices/hub/detail/state.hpp"

namespace gaffer::hub {
namespace {

// Shadow requests: $aws/things/T/shadow/{get,update,delete} and the named-shadow form.
// One level after "shadow" (or after the shadow's name), so answers never match.
constexpr const char* kShadowRequestFilters[] = {"$aws/things/+/shadow/+", "$aws/things/+/shadow/name/+/+"};

registry::Registry::Options registry_options(const Options& o) {
    registry::Registry::Options r;
    r.admin_username = o.admin_username;
    r.max_devices = o.max_devices;
    return r;
}

}  // namespace

Hub::State::State(Ports p, Options o)
    : ports(p),
      options(std::move(o)),
      routes(options.max_routes),
      shadows(ports.shadows, ports.wall_clock),
      admin(
          [link = &ports.link](std::string_view topic, std::string payload) -> base::Result<void> {
              if (!link->connected()) return base::fail(base::Errc::unavailable, "not connected to the broker");
              link->publish(mqtt::Message{std::string(topic), std::move(payload), 1, false}, {});
              return {};
          },
          ports.admin_alarm, ports.clock),
      registry(ports.devices, admin, registry_options(options)) {}

Hub::Hub(Ports ports, Options options) : state_(std::make_unique<State>(ports, std::move(options))) {}

Hub::~Hub() = default;

base::Result<void> Hub::start() {
    auto& s = *state_;
    auto stored = s.ports.storage.load_routes();
    if (!stored) return tl::unexpected(stored.error());
    for (auto& route : *stored) {
        const auto id = route.id;
        if (auto added = s.routes.add(std::move(route)); !added)
            return base::fail(added.error().code, "stored route " + std::to_string(id) + ": " + added.error().message);
    }
    // The registry writes device roles from the grants it remembers: tell it all of them.
    std::set<std::string> named;
    for (const auto& route : s.routes.all())
        for (auto& thing : routing::affected_devices(route)) named.insert(std::move(thing));
    s.push_grants(std::vector<std::string>(named.begin(), named.end()));
    s.announce_routes();
    State* self = state_.get();
    s.ports.link.set_handlers([self](mqtt::Message m) { self->on_message(std::move(m)); },
                              [self](bool up, std::string reason) { self->on_connection(up, reason); });
    for (const char* filter : kShadowRequestFilters) {
        if (auto sub = s.ports.link.subscribe(filter, 1); !sub) return sub;
    }
    for (auto topic : {registry::kResponseTopic, registry::kPresenceTopic}) {
        if (auto sub = s.ports.link.subscribe(std::string(topic), 1); !sub) return sub;
    }
    // Every device message, so that routes take effect the moment they are added (no
    // SUBSCRIBE in flight), and one subscription only: mosquitto would deliver a message
    // once per matching subscription.
    if (auto sub = s.ports.link.subscribe("#", 1); !sub) return sub;
    s.ports.link.start();
    return {};
}

void Hub::stop(std::function<void()> done) {
    auto& s = *state_;
    s.stopping = true;
    s.refuse_waiting("gafferd is stopping");
    s.admin.fail_all(base::Error{base::Errc::unavailable, "gafferd is stopping"});
    s.ports.link.stop(std::move(done));
}

void Hub::State::on_connection(bool up, const std::string& reason) {
    if (!up) {
        admin.fail_all(base::Error{base::Errc::unavailable, "lost the broker: " + reason});
        outbox_in_flight.clear();
        return;
    }
    count(metric::reconnects);
    if (!waiting_shadows.empty()) schedule_drain();
    registry.reconcile([this](base::Result<registry::Registry::ReconcileReport> report) {
        if (!report) return log_problem("reconciling devices with the broker", report.error());
        for (const auto& problem : report->problems) log(base::LogLevel::warning, "reconcile: " + problem);
        if (report->created || report->missing || report->orphans)
            log(base::LogLevel::info, "reconciled devices with the broker: " + std::to_string(report->created) +
                           " clients created, " + std::to_string(report->missing) + " marked missing, " +
                           std::to_string(report->orphans) + " orphans deleted");
    });
    flush_outbox();
}

void Hub::State::on_message(mqtt::Message message) {
    if (stopping) return;
    count(metric::received);
    if (message.topic == registry::kResponseTopic) {
        admin.feed(message.topic, message.payload);
        return;
    }
    if (message.topic == registry::kPresenceTopic) {
        if (auto event = registry::parse_presence(message.topic, message.payload)) registry.on_presence(*event);
        return;
    }
    Inbound in{std::move(message), std::nullopt, {}};
    in.shadow = shadow::parse_request_topic(in.message.topic);
    if (in.message.ingested && !in.shadow) {
        count(metric::ingested_copies);  // handled through ingest() already
        return;
    }
    if (!in.shadow) {
        pending.push_back(std::move(in));
        return schedule_drain();
    }
    const std::size_t bytes = in.message.payload.size();
    if (waiting_shadows.size() >= options.max_waiting_shadow_requests ||
        waiting_shadow_bytes + bytes > options.max_waiting_shadow_bytes) {
        // The broker takes answers slower than requests come: refuse rather than grow.
        count(metric::refused("busy"));
        log_refusal("refused a shadow request on " + in.message.topic + ": " +
                    std::to_string(waiting_shadows.size()) + " wait for the broker to take earlier answers");
        return;
    }
    waiting_shadow_bytes += bytes;
    waiting_shadows.push_back(std::move(in));
    schedule_drain();
}

void Hub::ingest(mqtt::Message message, Verdict verdict) {
    auto& s = *state_;
    if (s.stopping) return verdict(false, "gafferd is stopping");
    // Not counted as received here: its marked copy is, when "#" brings it.
    s.pending.push_back(Inbound{std::move(message), std::nullopt, std::move(verdict)});
    s.schedule_drain();
}

void Hub::on_routes_changed(std::function<void(const routing::RouteTable&)> observer) {
    state_->routes_changed = std::move(observer);
    state_->announce_routes();
}

void Hub::State::push_grants(const std::vector<std::string>& things, std::function<void()> applied) {
    // `applied` runs when the last answer is in, never inside this call: the registry may
    // answer at once (a thing with no record), before the caller has its route.
    auto outstanding = std::make_shared<std::size_t>(things.size() + 1);
    auto one_done = [this, outstanding, applied = std::move(applied)] {
        if (--*outstanding == 0 && applied) ports.defer(applied);
    };
    for (const auto& thing : things) {
        auto g = routes.grants(thing);
        registry.set_grants(thing, registry::Grants{std::move(g.publish), std::move(g.subscribe)},
                            [this, thing, one_done](base::Result<void> done) {
                                if (!done) log_problem("updating the broker grants of " + thing, done.error());
                                one_done();
                            });
    }
    one_done();
}

void Hub::add_device(registry::Device device, AddDone done) { state_->registry.add(std::move(device), std::move(done)); }

void Hub::remove_device(std::string thing, VoidDone done) {
    state_->registry.remove(std::move(thing), std::move(done));
}

void Hub::rotate_credentials(std::string thing, PasswordDone done) {
    state_->registry.rotate(std::move(thing), std::move(done));
}

std::optional<registry::Presence> Hub::presence(std::string_view thing) const {
    return state_->registry.presence(thing);
}

base::Result<routing::Route> Hub::add_route(std::string_view source, std::string_view filter,
                                            std::string_view target, std::function<void()> applied) {
    auto& s = *state_;
    auto route = routing::make_route(source, filter, target);
    if (!route) return route;
    if (s.routes.size() >= s.options.max_routes)
        return base::fail(base::Errc::busy, "the routing table holds its maximum of " +
                                                std::to_string(s.options.max_routes) + " routes (devices.max_routes)");
    auto stored = s.ports.storage.add_route(*route);
    if (!stored) return stored;
    if (auto added = s.routes.add(*stored); !added) {
        (void)s.ports.storage.remove_route(stored->id);
        return tl::unexpected(added.error());
    }
    s.announce_routes();
    s.push_grants(routing::affected_devices(*stored), std::move(applied));
    return stored;
}

base::Result<void> Hub::remove_route(std::int64_t id, std::function<void()> applied) {
    auto& s = *state_;
    const routing::Route* route = s.routes.find(id);
    if (!route) return base::fail(base::Errc::not_found, "no route has id " + std::to_string(id));
    const auto things = routing::affected_devices(*route);
    if (auto removed = s.ports.storage.remove_route(id); !removed) return removed;
    (void)s.routes.remove(id);
    s.announce_routes();
    s.push_grants(things, std::move(applied));
    return {};
}

const routing::RouteTable& Hub::routes() const { return state_->routes; }

bool Hub::connected() const { return state_->ports.link.connected(); }

std::map<std::string, std::uint64_t> Hub::metrics() const {
    auto out = state_->counters;
    out["gaffer_mqtt_connected"] = connected() ? 1 : 0;
    if (auto queued = state_->ports.storage.outbox_size()) out["gaffer_mqtt_outbox_queued"] = *queued;
    out["gaffer_mqtt_routes"] = state_->routes.size();
    out["gaffer_devices_connected"] = state_->registry.connected_count();
    return out;
}

}  // namespace gaffer::hub
