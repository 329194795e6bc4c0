// gaffer::hub — gafferd's device side in one place: it takes every MQTT message gafferd
// receives and every device, shadow, route and publish request from the local API and from
// tasks, and moves each to where it goes: the shadow service, the registry, the routing
// table, task invocations, the broker.
//
// Domain code: it knows the devices/ subsystems and talks to the rest of gafferd through the
// ports below (the scheduler, SQLite, deferred work on the loop), so tests drive it with
// fakes and a fake mqtt::Link.
//
// Durability: a burst of messages is handled in one storage batch (one fsync): the shadow
// writes and the task invocations it makes are committed before any answer is published.
// A failed commit answers each shadow request of the burst 500 and publishes nothing else.
//
// QoS 1 device messages to tasks can come twice: first from the broker's ingest plugin,
// before the device has its PUBACK (ingest()), then marked through "#" (skipped).
//
// Subscriptions: the shadow request topics, the dynamic-security response topic, the
// broker's presence log topic, and "#": every device message, matched against the routes
// (one "#" rather than the routes' filters, because mosquitto delivers one copy per
// matching subscription, and because a route then works the moment it is added).
// gafferd's own publications are not delivered back to it (MQTT 5 No Local).
//
// Threading: loop thread only, like every port it is handed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/base.hpp"
#include "devices/mqtt/mqtt.hpp"
#include "devices/registry/registry.hpp"
#include "devices/routing/routing.hpp"
#include "devices/shadow/shadow.hpp"

namespace gaffer::hub {

// ---- Ports ---------------------------------------------------------------------------

// The scheduler, for routed messages.
class Tasks {
public:
    virtual ~Tasks() = default;
    // Queues an asynchronous invocation of `task` with `event`; durable when it returns
    // (inside an open batch: when the batch commits). Returns the invocation id. Errors:
    // the scheduler's (not_found, invalid, unavailable, busy, io).
    virtual base::Result<std::string> invoke_async(std::string_view task, std::string event) = 0;
};

// One outbox entry: a QoS 1 message gafferd has accepted to publish.
struct Queued {
    std::int64_t seq = 0;
    mqtt::Message message;
};

// The state store: batches, routes and the outbox.
class Storage {
public:
    virtual ~Storage() = default;
    // Group commit: while a batch is open, every write (here, in the shadow and device
    // stores and in the scheduler's journal) joins it. Batches do not nest.
    virtual base::Result<void> begin_batch() = 0;
    virtual base::Result<void> commit_batch() = 0;
    virtual void abandon_batch() = 0;  // rolls back

    virtual base::Result<std::vector<routing::Route>> load_routes() = 0;
    // Stores the route and returns it with its id. Errors: conflict, io.
    virtual base::Result<routing::Route> add_route(const routing::Route& route) = 0;
    virtual base::Result<void> remove_route(std::int64_t id) = 0;  // not_found, io

    // Errors: busy (outbox full), io.
    virtual base::Result<std::int64_t> enqueue(const mqtt::Message& message) = 0;
    virtual base::Result<std::vector<Queued>> peek_outbox(std::size_t limit) = 0;
    virtual base::Result<void> remove_outbox(std::int64_t seq) = 0;
    virtual base::Result<std::uint64_t> outbox_size() = 0;
};

struct Ports {
    mqtt::Link& link;
    Tasks& tasks;
    Storage& storage;
    registry::DeviceStore& devices;
    shadow::Store& shadows;
    registry::Alarm& admin_alarm;    // timeouts of dynamic-security commands
    const base::Clock& clock;
    const shadow::WallClock& wall_clock;
    // Runs `fn` on the loop thread after the current callback returns (loop::Loop::post).
    std::function<void(std::function<void()>)> defer;
    // Where the hub's own messages go (refused messages, broker problems); the daemon logs.
    std::function<void(base::LogLevel, std::string_view)> log;
};

struct Options {
    std::string admin_username = "gaffer-admin";
    std::size_t max_devices = 100000;
    std::size_t max_routes = 10000;
    std::size_t max_message_bytes = 256u << 10;  // device message routed to a task
    std::size_t outbox_batch = 256;              // outbox entries in flight at once
    // Shadow answers (and other publications outside the outbox) handed to the link and not
    // yet acknowledged, at most: beyond, shadow requests wait, in order, instead of having
    // their answers refused by the link (its max_inflight is 1000: this leaves room for the
    // outbox and dynamic-security commands).
    std::size_t max_answers_in_flight = 600;
    // Shadow requests that may wait so, and their bytes: beyond either, one is refused.
    std::size_t max_waiting_shadow_requests = 10000;
    std::size_t max_waiting_shadow_bytes = 16u << 20;
};

// What a request from the API or a task gets back: an HTTP status and a JSON body.
struct Answer {
    int status = 200;
    std::string body;
};

// ---- The hub -------------------------------------------------------------------------

class Hub {
public:
    using AddDone = registry::Registry::AddDone;
    using PasswordDone = registry::Registry::PasswordDone;
    using VoidDone = registry::Registry::VoidDone;

    Hub(Ports ports, Options options);
    ~Hub();
    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;

    // Loads the routes, installs the link's handlers and starts the link. Errors: io
    // (routes could not be read), invalid (a stored route this build refuses).
    base::Result<void> start();
    // Stops the link cleanly (pending admin commands fail `unavailable`), then `done`.
    void stop(std::function<void()> done);

    // ---- devices (the registry; see registry::Registry for the contracts)
    void add_device(registry::Device device, AddDone done);
    void remove_device(std::string thing, VoidDone done);
    void rotate_credentials(std::string thing, PasswordDone done);
    std::optional<registry::Presence> presence(std::string_view thing) const;

    // ---- routes. Errors: invalid (the message names the field), conflict, busy (the
    // table holds max_routes), io. The grants the change gives or withdraws are sent to
    // the broker at once; `applied`, if set and the change succeeded, runs on a later loop
    // turn, once the broker has answered for every device concerned (a failure is logged;
    // the grants are sent again after every reconnect).
    base::Result<routing::Route> add_route(std::string_view source, std::string_view filter,
                                           std::string_view target, std::function<void()> applied = {});
    base::Result<void> remove_route(std::int64_t id, std::function<void()> applied = {});
    const routing::RouteTable& routes() const;
    // Runs after every change of the route table, and once from start().
    void on_routes_changed(std::function<void(const routing::RouteTable&)> observer);

    // ---- a QoS 1 device message from the broker's ingest plugin (gaffer::ingest), which
    // holds the device's PUBACK back until `verdict` runs. Handled like a message from the
    // "#" subscription, in the next batch; `verdict` runs once that batch has committed:
    // accepted, or refused with the reason when the device should send it again (the task
    // queue is full, the store failed, gafferd is stopping). A message no route takes any
    // more, or one a route cannot deliver for good (a task that is gone, too large), is
    // accepted: sending it again would not help; it is counted and logged as refused.
    // The marked copy the "#" subscription brings afterwards is skipped.
    using Verdict = std::function<void(bool accepted, std::string reason)>;
    void ingest(mqtt::Message message, Verdict verdict);

    // ---- shadows, for the local API and tasks: the shadow service's answer (status is the
    // AWS code); what an accepted change announces is published.
    Answer get_shadow(const shadow::Key& key);
    Answer update_shadow(const shadow::Key& key, std::string_view request_json);
    Answer delete_shadow(const shadow::Key& key);

    // ---- a task's publication: delivered to the targets of the routes from task:<task>
    // whose filter matches `topic`. 202 {"topic", "routes"} when accepted; 400 bad topic
    // or qos; 403 no route; 413 too large; 429 outbox full; 500 store failed.
    Answer publish_from_task(std::string_view task, std::string_view topic, std::string payload,
                             int qos);

    bool connected() const;
    // Counters for /metrics, keyed as api::DeviceMetrics documents.
    std::map<std::string, std::uint64_t> metrics() const;

    struct State;

private:
    std::unique_ptr<State> state_;
};

// The event a routed message gives a task (a JSON object):
//   {"topic": t, "payload": <the payload as JSON when it is JSON, else a base64 string>,
//    "payload_encoding": "json" | "base64", "qos": n, "source": "device" | "task:<name>" |
//    "shadow"}
std::string task_event(std::string_view topic, std::string_view payload, int qos,
                       std::string_view source);

}  // namespace gaffer::hub
