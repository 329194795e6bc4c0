// gaffer::api — gafferd's local API: HTTP/1.1 + JSON over a Unix socket, and Prometheus
// /metrics. docs/api.md describes every route for clients.
//
// Three pieces:
//  - Backend: the operations the API needs, as plain value types. The daemon implements
//    it on top of the scheduler and the store; tests implement it with a fake.
//    DeviceBackend is the same for devices, shadows and message routes, and optional.
//  - Router: one request in, one response out (no sockets), so routes are tested alone.
//  - Server: the Unix socket listener, peer-credential checks, connection limits,
//    keep-alive and pipelining, on top of gaffer::loop.
//
// Threading: everything here runs on the loop thread, and so do Backend calls and the
// callbacks a Backend is handed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coordinator/base/base.hpp"
#include "coordinator/http/http.hpp"

namespace gaffer::loop {
class Loop;
}

namespace gaffer::api {

// ---- Values the Backend returns ------------------------------------------------------

// How one invocation ended; the names match scheduler::status_name.
enum class InvocationStatus { ok, function_error, timeout, out_of_memory, crashed, init_error, cancelled };
std::string_view status_name(InvocationStatus status);
std::optional<InvocationStatus> parse_status_name(std::string_view name);

struct InvocationOutcome {
    InvocationStatus status = InvocationStatus::ok;
    std::string payload;  // the task's response, or its error document
    std::string detail;   // for a person when status != ok
};

struct TaskView {
    std::string name;
    std::string version;
    std::string owner;
    std::string mode;        // "on_demand" | "long_lived"
    std::string state;       // "ready", "running", "starting", "backoff", "broken", ...
    std::size_t queued = 0;
    std::size_t running = 0;
    std::size_t environments = 0;
    unsigned recent_failures = 0;
    std::string manifest_json;  // canonical manifest; may be empty in list_tasks()
};

struct PutTaskResult {
    TaskView task;
    bool created = false;  // false: an existing task was replaced
};

struct InvocationView {
    std::string id;
    std::string task;
    bool finished = false;
    std::int64_t accepted_at_ms = 0;  // wall clock, ms since the epoch
    std::int64_t finished_at_ms = 0;  // 0 while pending
    InvocationOutcome outcome;        // meaningful when finished
};

struct EnvironmentView {
    std::uint64_t id = 0;
    std::string task;
    std::string state;        // "starting", "idle", "busy", "stopping"
    double age_seconds = 0;
    std::uint64_t invocations = 0;
};

struct StatusView {
    std::string version;
    double uptime_seconds = 0;
    std::size_t tasks = 0;
    std::size_t environments = 0;
    std::size_t queued = 0;
    std::size_t running = 0;
    bool shutting_down = false;
};

// Counters and gauges for /metrics (the API adds gaffer_requests_total itself).
struct MetricsSnapshot {
    std::map<std::string, std::uint64_t> invocations_by_status;  // status name -> count
    // Histogram of invocation durations in seconds. bucket_counts has one entry per bound
    // plus a last one for +Inf, each counting its own bucket only (not cumulative).
    std::vector<double> bucket_bounds;
    std::vector<std::uint64_t> bucket_counts;
    double duration_sum = 0;
    std::uint64_t duration_count = 0;  // equals the sum of bucket_counts
    std::uint64_t queue_rejections = 0;
    std::uint64_t environments = 0;          // live now
    std::uint64_t environments_started = 0;  // since the daemon started
    std::uint64_t tasks = 0;                 // installed now
};

// ---- The port the daemon implements --------------------------------------------------

// Errors are base::Error values; the API turns their code into the HTTP status
// (invalid 400, not_found 404, conflict 409, busy 429, denied 403, unavailable 503,
// timeout 504, retry/io 500) and shows their message to the client.
class Backend {
public:
    using InvokeDone = std::function<void(const InvocationOutcome&)>;
    virtual ~Backend() = default;

    // Installs the task in `manifest_json` (a JSON document), or replaces the task of the
    // same name. Errors: invalid (not a valid manifest; the message names the field),
    // unavailable (shutting down), io (the store failed).
    virtual base::Result<PutTaskResult> put_task(std::string_view manifest_json) = 0;
    // Every task, ordered by name. Errors: io.
    virtual base::Result<std::vector<TaskView>> list_tasks() = 0;
    // Errors: not_found.
    virtual base::Result<TaskView> show_task(std::string_view name) = 0;
    // Errors: not_found, io. In-flight invocations of the task end `cancelled`.
    virtual base::Result<void> remove_task(std::string_view name) = 0;
    // Starts an invocation and returns its id. Errors: not_found (no such task), invalid
    // (the task takes no invocations), busy (queue full), unavailable (shutting down,
    // task broken), io (journal). On error `done` is never called. Sync (async = false):
    // `done` runs exactly once with the outcome, possibly before invoke() returns.
    // Async: the invocation is durable when invoke() returns; `done` is not called.
    virtual base::Result<std::string> invoke(std::string_view task, std::string payload,
                                             bool async, InvokeDone done) = 0;
    // An asynchronous invocation from the journal. Errors: not_found, io.
    virtual base::Result<InvocationView> show_invocation(std::string_view id) = 0;
    // At most the last `tail_bytes` bytes of the task's log. Errors: not_found (no such
    // task), unavailable (no log yet), io.
    virtual base::Result<std::string> read_logs(std::string_view task, std::size_t tail_bytes) = 0;
    virtual base::Result<std::vector<EnvironmentView>> list_environments() = 0;
    virtual StatusView status() = 0;
    virtual MetricsSnapshot metrics() = 0;
};

// ---- Devices, shadows and message routes (issue #3) ----------------------------------

// A registered device. Times are wall clock, ms since the epoch.
struct DeviceView {
    std::string thing;
    std::string attributes_json = "{}";  // a JSON object of string values
    std::vector<std::string> groups;
    bool connected = false;
    std::int64_t presence_changed_at_ms = 0;  // 0: never seen
    std::int64_t created_at_ms = 0;
    std::string credentials;           // "active" | "pending" (not yet on the broker) | "missing"
    std::vector<std::string> shadows;  // shadow names; "" is the classic shadow
};

// What a device needs to connect. The password exists only in this value: the daemon
// keeps no copy it could show again.
struct Credentials {
    std::string thing;
    std::string username;
    std::string client_id;
    std::string password;
    std::string broker;  // e.g. "tcp://gateway:1883"; informative
};

struct RouteView {
    std::int64_t id = 0;
    std::string source;  // "device:<thing>", "task:<name>", "shadow"
    std::string filter;  // an MQTT topic filter
    std::string target;
    std::int64_t created_at_ms = 0;
};

// The shadow service's answer, passed to the client as it is: status is the AWS code
// (200 accepted; 400, 404, 409, 413, 429, 500, ... rejected) and body the AWS accepted
// document or AWS error document ({"code": ..., "message": ..., "timestamp": ...}).
struct ShadowAnswer {
    int status = 200;
    std::string body;
};

// Device counters and gauges for /metrics. Each key is one sample, written
//     <family>                  e.g. "gaffer_mqtt_messages_received_total"
//     <family>{<label>=<value>} e.g. "gaffer_mqtt_messages_refused_total{reason=no_route}"
// where <family> starts with "gaffer_mqtt_" or "gaffer_devices" and is a counter when it
// ends in "_total", a gauge otherwise; <label> is [a-z_]+ and <value> [a-zA-Z0-9_.:-]+.
// Families the API knows (docs/api.md) get their own HELP text and, when unlabelled,
// appear as 0 when missing:
//     gaffer_mqtt_connected                       gauge, 1 while connected to the broker
//     gaffer_mqtt_messages_received_total         counter
//     gaffer_mqtt_messages_routed_total           counter, deliveries to route targets
//     gaffer_mqtt_messages_refused_total{reason}  counter
//     gaffer_mqtt_outbox_queued                   gauge, publications awaiting the broker
//     gaffer_mqtt_messages_published_total        counter
//     gaffer_mqtt_messages_unrouted_total         counter, received but matched no route
//     gaffer_mqtt_publications_dropped_total      counter, non-durable ones lost to an outage
//     gaffer_mqtt_messages_ingested_total{result} counter ("accepted", "refused")
//     gaffer_mqtt_messages_ingested_copies_total  counter
//     gaffer_mqtt_connects_total                  counter, reconnects included
//     gaffer_mqtt_routes                          gauge, routes in the table
//     gaffer_devices                              gauge, registered devices
//     gaffer_devices_connected                    gauge
//     gaffer_devices_shadow_requests_total{result} counter ("accepted", "rejected", ...)
// Other families are written too, with a generic HELP line; malformed keys are dropped.
using DeviceMetrics = std::map<std::string, std::uint64_t>;

// The device side of the daemon (registry, shadows, routing table). Errors as for
// Backend. Async operations talk to the broker: `done` runs exactly once, on the loop
// thread, possibly before the call returns; a backend shutting down still calls it (with
// unavailable). Strings handed in are only valid during the call.
class DeviceBackend {
public:
    virtual ~DeviceBackend() = default;

    // Registers a device from {"thing", "attributes"?, "groups"?} (the API has checked
    // the shape and the thing name). Errors: invalid (the message names the field),
    // conflict (the thing exists), io. A broker that cannot be reached is not an error:
    // the device is recorded with credentials "pending" and returned.
    virtual void add_device(std::string_view device_json,
                            std::function<void(base::Result<std::pair<DeviceView, Credentials>>)> done) = 0;
    // At most `limit` devices whose thing name sorts after `after` ("" from the start),
    // ordered by thing name. Errors: io.
    virtual base::Result<std::vector<DeviceView>> list_devices(std::string_view after,
                                                               std::size_t limit) = 0;
    // Errors: not_found, io.
    virtual base::Result<DeviceView> show_device(std::string_view thing) = 0;
    // Removes the device, its credentials on the broker and its shadows. Errors:
    // not_found, io.
    virtual void remove_device(std::string_view thing,
                               std::function<void(base::Result<void>)> done) = 0;
    // New password; the old one stops working. Errors: not_found, io.
    virtual void rotate_credentials(std::string_view thing,
                                    std::function<void(base::Result<Credentials>)> done) = 0;
    // Shadow requests, as the shadow service answers them over MQTT. `name` "" is the
    // classic shadow; `request_json` is an AWS update request (the API checked it is JSON).
    virtual ShadowAnswer get_shadow(std::string_view thing, std::string_view name) = 0;
    virtual ShadowAnswer update_shadow(std::string_view thing, std::string_view name,
                                       std::string_view request_json) = 0;
    virtual ShadowAnswer delete_shadow(std::string_view thing, std::string_view name) = 0;
    // Errors: invalid (bad endpoint or filter; the message names it), conflict (the same
    // route exists), busy (table full), io. Answers once the broker has applied the grants
    // the route gives devices (or failed to: the route stays, and its grants are sent
    // again after every reconnect), so a device may use the route as soon as it is told.
    virtual void add_route(std::string_view source, std::string_view filter, std::string_view target,
                           std::function<void(base::Result<RouteView>)> done) = 0;
    // Every route, ordered by id. Errors: io.
    virtual base::Result<std::vector<RouteView>> list_routes() = 0;
    // Errors: not_found, io. Answers once the broker has withdrawn the grants, as above.
    virtual void remove_route(std::int64_t id, std::function<void(base::Result<void>)> done) = 0;
    virtual DeviceMetrics device_metrics() = 0;
};

// ---- The router ----------------------------------------------------------------------

struct RouterOptions {
    std::size_t max_log_tail_bytes = 1u << 20;  // what /logs reads from the Backend at most
    unsigned default_log_lines = 100;
    unsigned max_log_lines = 10000;
    std::size_t default_device_page = 100;  // GET /v1/devices without ?limit
    std::size_t max_device_page = 1000;
};

// Maps requests to Backend calls (routes: docs/api.md). Counts responses by status code
// for gaffer_requests_total.
class Router {
public:
    using Respond = std::function<void(http::Response)>;

    // `backend` (and `devices`, when given) must outlive the Router. Router may be
    // destroyed while a synchronous invocation or an asynchronous device call is in
    // flight: the later `respond` call does not touch the Router. Without a
    // DeviceBackend every device, shadow and route path answers 503.
    explicit Router(Backend& backend, RouterOptions options = {}, DeviceBackend* devices = nullptr);
    ~Router();
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;

    // `respond` runs exactly once: before handle() returns for every route except a
    // synchronous invoke and the asynchronous device calls (add, remove, credentials),
    // which answer when the Backend calls back.
    void handle(const http::Request& request, Respond respond);
    // Enables (or, with nullptr, disables) the device routes from the next request on.
    void set_device_backend(DeviceBackend* devices);
    // Counts a response the server made without the router (403, 400, 413, 503, ...).
    void count_response(int status);
    std::map<int, std::uint64_t> response_counts() const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

// The JSON error document and status for an error: {"error": "<errc name>", "message": ...}.
int http_status_for(base::Errc code);
http::Response error_response(const base::Error& error);
http::Response error_response(int status, std::string_view error_name, std::string_view message);

// ---- The server ----------------------------------------------------------------------

struct ServerOptions {
    std::string socket_path = "/run/gaffer/gaffer.sock";
    int socket_mode = 0660;
    // The socket's group (chown to the daemon's uid and this group); its members may
    // connect. -1: leave the group as created and admit no group.
    gid_t socket_group = static_cast<gid_t>(-1);
    std::size_t max_connections = 64;
    http::Limits limits{16 * 1024, 8u << 20};
    // A connection with no request in flight is closed after this long without a whole
    // new request (a trickle of bytes does not keep it open).
    base::Duration idle_timeout = std::chrono::seconds(60);
    std::size_t max_pipelined = 16;  // whole requests waiting behind the one in flight
    RouterOptions router;
    // The device side; nullptr (no [broker] configured): device routes answer 503. Must
    // outlive the Server.
    DeviceBackend* devices = nullptr;
};

class Server {
public:
    // Listens on options.socket_path (an old socket file there is replaced; its directory
    // must exist). Errors: io (bind, chmod, chown failed), invalid (path empty or over 107
    // bytes). Must not be destroyed from inside a Backend call or callback.
    static base::Result<std::unique_ptr<Server>> start(loop::Loop& loop, Backend& backend,
                                                       ServerOptions options);
    ~Server();  // stops listening, unlinks the socket, drops every connection
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    std::size_t connection_count() const;
    const Router& router() const;
    // As Router::set_device_backend, for a device side that starts after the Server.
    void set_device_backend(DeviceBackend* devices);

private:
    Server() = default;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace gaffer::api
