// gaffer::runtime — the control channel between gafferd and gaffer-init.
//
// gafferd starts gaffer-init with one end of a socketpair(AF_UNIX, SOCK_STREAM) as fd 3.
// Both sides exchange frames over it:
//
//   u32 body_length (little endian, counts everything after itself)
//   u8  type
//   u32 header_length (little endian)
//   header: JSON object, header_length bytes
//   payload: raw bytes, the rest of the body (event, response, error document)
//
// Frames larger than kMaxFrame are a protocol error: the reader closes the channel.
// The codec is pure (bytes in, frames out) so both programs and the tests share it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coordinator/base/base.hpp"
#include "coordinator/http/http.hpp"

namespace gaffer::runtime {

inline constexpr std::uint32_t kMaxFrame = 8u << 20;  // Lambda allows 6 MB payloads

enum class FrameType : std::uint8_t {
    // gafferd -> gaffer-init
    launch = 1,    // header: LaunchSpec JSON; payload empty. Always the first frame.
    // header: {"id", "deadline_ms"?, "trace_id"?}; payload: the event. deadline_ms is an
    // absolute wall-clock deadline in epoch milliseconds (it becomes Lambda-Runtime-
    // Deadline-Ms); absent or 0 means now + LaunchSpec::timeout_ms. gaffer-init enforces
    // the earlier of the two. Invocations run one at a time; extra ones wait in order.
    invoke = 2,
    shutdown = 3,  // header: {"grace_ms"}; gaffer-init stops the task and exits
    // header: ServiceReply JSON; payload: the answer's body. The answer to a
    // service_request; one for an id that is no longer waiting (timed out) is dropped.
    service_reply = 4,
    // gaffer-init -> gafferd
    ready = 10,       // the environment is initialized and idle (lambda: first /next)
    result = 11,      // header: {"id","status","detail"?}; payload: response or error doc
    init_error = 12,  // header: {"detail"}; payload: the task's init error document
    // header: {"reason","code","signal","detail"}; sent just before exit. reason is one of
    // "exited" (task exited 0), "crashed" (non-zero exit or signal), "stopped" (after
    // shutdown), "timeout", "init_error", "setup_failed" (gaffer-init could not build the
    // environment or start the task; detail says why), "protocol_error".
    exited = 13,
    log = 14,         // header: {"level"}; payload: a line from gaffer-init about itself
    // header: ServiceRequest JSON; payload: the request body (shadow update document,
    // MQTT payload). A task called the device services (see "Device services" below).
    service_request = 15,
};

struct Frame {
    FrameType type;
    std::string header;   // JSON text
    std::string payload;  // raw bytes
};

// Appends the encoded frame to `out`.
void encode(const Frame& frame, std::string& out);

// Incremental decoder: feed bytes as they arrive, take whole frames out.
class Decoder {
public:
    // Appends bytes. Returns Errc::invalid (and stays broken) on an oversized or
    // malformed frame.
    base::Result<void> feed(std::string_view bytes);
    // The next whole frame, if one is buffered.
    std::optional<Frame> next();

private:
    std::string buffer_;
    std::size_t offset_ = 0;
    bool broken_ = false;
};

// Status values in a `result` header.
inline constexpr std::string_view kStatusOk = "ok";
inline constexpr std::string_view kStatusFunctionError = "function_error";
inline constexpr std::string_view kStatusTimeout = "timeout";
inline constexpr std::string_view kStatusCrashed = "crashed";

// What gaffer-init needs to build one environment. Sent as the `launch` header.
struct LaunchSpec {
    std::string task;
    std::vector<std::string> command;
    std::vector<std::pair<std::string, std::string>> environment;
    std::string working_dir = "/task";
    std::string interface = "lambda";    // "lambda" | "process"
    std::string mode = "on-demand";      // "on-demand" | "long-lived"
    std::string handler;
    std::uint32_t timeout_ms = 3000;
    std::uint32_t uid = 65534;
    std::uint32_t gid = 65534;
    std::string network = "host";        // "host" | "none"
    std::string hostname = "gaffer";
    std::vector<std::string> cgroup_procs;  // cgroup.procs files gaffer-init writes itself into
                                            // (none: a pooled one is in its cgroup already)
    std::string artifact_dir;              // host dir, bind-mounted read-only at /task
    struct Resource {
        std::string source, target;
        bool writable = false;
        bool device = false;
    };
    std::vector<Resource> resources;
    std::vector<std::string> hidden_paths;  // host paths overmounted empty (state dir, tasks root)
    std::string log_path;                   // task stdout/stderr go here
    std::uint64_t log_max_bytes = 1u << 20;  // rotate at this size
    std::uint32_t log_keep = 3;              // rotated files kept: path.1 .. path.N
    std::uint16_t runtime_api_port = 9001;   // 0: pick a free loopback port (host network)
    std::string version = "$LATEST";         // AWS_LAMBDA_FUNCTION_VERSION
    std::uint64_t memory_bytes = 0;          // the memory limit, for AWS_LAMBDA_FUNCTION_MEMORY_SIZE
                                             // and the /tmp size bound; 0: unknown (128 MB shown)
    // How long gaffer-init waits for gafferd's service_reply before answering the task 504.
    std::uint32_t service_timeout_ms = 10000;
};

// The JSON form: an object whose keys are the member names above; environment is a JSON
// object (order kept), resources an array of {"source","target","writable","device"}.
std::string to_json(const LaunchSpec& spec);
// Strict: unknown keys, wrong types, relative paths and out-of-range values are
// Errc::invalid with a message naming the field, e.g. `launch spec: timeout_ms: expected
// an unsigned integer, got "3s"`. "task" and "command" are required.
base::Result<LaunchSpec> parse_launch_spec(std::string_view json);

// --- The Lambda Runtime API that gaffer-init serves to "lambda" tasks -------------------

inline constexpr std::string_view kApiVersion = "2018-06-01";
// Largest response or error document a task may post (Lambda's synchronous limit).
inline constexpr std::size_t kMaxResponseBytes = 6u * 1024 * 1024;

// One invocation as the task sees it.
struct Invocation {
    std::string id;                      // Lambda-Runtime-Aws-Request-Id
    std::string event;                   // body of GET /next
    std::int64_t deadline_epoch_ms = 0;  // Lambda-Runtime-Deadline-Ms
    std::string trace_id;                // Lambda-Runtime-Trace-Id
};

// The Runtime API (version 2018-06-01) as a pure state machine: no sockets, no clock.
// gaffer-init parses HTTP requests, hands them to handle(), writes out the responses and
// forwards the frames to gafferd. Single-threaded; one invocation in flight at a time.
class LambdaApi {
public:
    explicit LambdaApi(std::string function_arn) : function_arn_(std::move(function_arn)) {}

    struct Outcome {
        // The answer to write now. Empty for GET /next: the caller parks the connection
        // and answers it with start() once an invocation is there.
        std::optional<http::Response> response;
        // For gafferd: `ready` on the first GET /next; `result` when the task posted a
        // response (ok) or an error (function_error), or a response over kMaxResponseBytes
        // (function_error, and a 413 to the task); `init_error` on POST /init/error, after
        // which the caller ends the environment.
        std::optional<Frame> frame;
    };
    Outcome handle(const http::Request& request);

    // Makes `invocation` the one in flight; returns the 200 answer for a parked GET /next.
    http::Response start(const Invocation& invocation);

    // The in-flight invocation ended without an answer from the task (timeout, crash).
    void abandon() { in_flight_.reset(); }
    const std::optional<std::string>& in_flight() const { return in_flight_; }
    bool initialized() const { return initialized_; }

private:
    Outcome finish(const http::Request& request, std::string_view id, bool is_error);

    std::string function_arn_;
    std::optional<std::string> in_flight_;
    bool initialized_ = false;
};

// {"errorMessage": message, "errorType": type}, the Lambda error document.
std::string error_document(std::string_view message, std::string_view type);

// --- Device services: shadows and MQTT publish, for every task ------------------------
//
// gaffer-init serves these on the same port as the Runtime API (GAFFER_RUNTIME_API in every
// task's environment), under a prefix AWS never uses:
//
//   GET    /gaffer/v1/shadow/{thing}[?name={shadow}]       shadow_get
//   POST   /gaffer/v1/shadow/{thing}[?name={shadow}]       shadow_update (body: update request)
//   DELETE /gaffer/v1/shadow/{thing}[?name={shadow}]       shadow_delete
//   POST   /gaffer/v1/publish?topic={topic}[&qos=0|1]      publish (body: the payload)
//
// gaffer-init checks the shape (route, names, query, sizes) with route_service() and
// relays a well-formed request to gafferd as a service_request frame; gafferd's
// service_reply gives the status and body the task receives (application/json).

inline constexpr std::string_view kServicePrefix = "/gaffer/v1/";
// Requests relayed and not yet answered, per environment; one more is answered 429.
inline constexpr std::size_t kMaxServiceInFlight = 16;
// Largest request body: a frame's worth, less room for the header (a topic of up to
// 65535 bytes, JSON-escaped).
inline constexpr std::size_t kMaxServiceBody = kMaxFrame - (512u << 10);
inline constexpr std::size_t kMaxTopicBytes = 65535;  // MQTT's own limit

enum class ServiceOp { shadow_get, shadow_update, shadow_delete, publish };
std::string_view service_op_name(ServiceOp op);  // "shadow_get", ..., "publish"

// The header of a service_request frame:
//   {"id": n, "op": "shadow_get"|"shadow_update"|"shadow_delete", "thing": t, "shadow"?: s}
//   {"id": n, "op": "publish", "topic": t, "qos": 0|1}
// "shadow" is absent for the classic shadow (shadow == "" here).
struct ServiceRequest {
    std::uint64_t id = 0;  // numbered by gaffer-init, unique per environment
    ServiceOp op = ServiceOp::shadow_get;
    std::string thing;     // shadow ops: a valid thing name
    std::string shadow;    // shadow ops: "" (classic) or a valid shadow name
    std::string topic;     // publish: 1..kMaxTopicBytes bytes, otherwise unchecked here
    int qos = 0;           // publish: 0 or 1
};

// The header of a service_reply frame: {"id": n, "status": 200..599}.
struct ServiceReply {
    std::uint64_t id = 0;
    int status = 200;
};

std::string to_json(const ServiceRequest& request);
std::string to_json(const ServiceReply& reply);
// Strict: not an object, unknown keys, a missing or mistyped field, a field that does not
// belong to the op, a bad name or qos are Errc::invalid with a message naming the field,
// e.g. `service_request: qos: expected 0 or 1, got 2`.
base::Result<ServiceRequest> parse_service_request(std::string_view json);
base::Result<ServiceReply> parse_service_reply(std::string_view json);

// Thing names: 1..128 bytes of [a-zA-Z0-9:_-]; shadow names: 1..64 bytes of the same.
bool valid_thing_name(std::string_view name);
bool valid_shadow_name(std::string_view name);

// "/gaffer" or below it: the whole namespace is Gaffer's (an unknown route there is a
// Gaffer 404, never a Lambda one).
bool is_service_path(std::string_view path);

// What gaffer-init does with one HTTP request on a service path: forward `request` (id 0:
// the caller numbers it) with the HTTP body as the frame's payload, or answer `response`
// now (404 unknown route, 405 wrong method, 400 bad name/query, 413 body over
// kMaxServiceBody). Pure.
struct ServiceRouting {
    std::optional<ServiceRequest> request;
    std::optional<http::Response> response;
};
ServiceRouting route_service(const http::Request& request);

// The answer to the task: `status` with a JSON `body` (keep-alive as the request asked).
http::Response service_response(int status, std::string body, bool keep_alive);
// {"error": error, "message": message}, the error document of Gaffer's own APIs; error is
// a base::errc_name ("invalid", "busy", "timeout", "unavailable", ...).
std::string service_error_document(std::string_view error, std::string_view message);

}  // namespace gaffer::runtime
