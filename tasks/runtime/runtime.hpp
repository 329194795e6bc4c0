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

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/base.hpp"

namespace gaffer::runtime {

inline constexpr std::uint32_t kMaxFrame = 8u << 20;  // Lambda allows 6 MB payloads

enum class FrameType : std::uint8_t {
    // gafferd -> gaffer-init
    launch = 1,    // header: LaunchSpec JSON; payload empty. Always the first frame.
    invoke = 2,    // header: {"id","deadline_ms","trace_id"?}; payload: the event
    shutdown = 3,  // header: {"grace_ms"}; gaffer-init stops the task and exits
    // gaffer-init -> gafferd
    ready = 10,       // the environment is initialized and idle (lambda: first /next)
    result = 11,      // header: {"id","status","detail"?}; payload: response or error doc
    init_error = 12,  // header: {"detail"}; payload: the task's init error document
    exited = 13,      // header: {"reason","code","signal","detail"}; sent just before exit
    log = 14,         // header: {"level"}; payload: a line from gaffer-init about itself
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
};

std::string to_json(const LaunchSpec& spec);
base::Result<LaunchSpec> parse_launch_spec(std::string_view json);

}  // namespace gaffer::runtime
