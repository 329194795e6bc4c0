// Private to gaffer::environment: how what gaffer-init said (and did) becomes the
// scheduler's Outcome and ExitInfo. Pure, so the rules are unit-tested without processes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "coordinator/scheduler/scheduler.hpp"

namespace gaffer::environment::detail {

// The header of an `exited` frame.
struct ExitFrame {
    std::string reason;  // exited, crashed, stopped, timeout, init_error, setup_failed, protocol_error
    int code = 0;
    int signal = 0;
    std::string detail;
};

// Everything known about an environment when it ends.
struct ExitFacts {
    bool ready = false;            // a `ready` frame arrived
    bool stop_requested = false;   // stop() was called
    std::string init_error;        // from an `init_error` frame
    std::optional<ExitFrame> exited;
    std::string protocol_error;    // the channel broke (undecodable bytes)
    std::int64_t exit_status = 0;  // gaffer-init's own exit, from libuv
    int term_signal = 0;
    std::uint64_t oom_kills_reported = 0;  // OOM kills already blamed on a result
    std::uint64_t oom_kills_final = 0;     // the cgroup's count when it was removed
};

// A `result` frame. new_oom_kill: the cgroup counted an OOM kill since the last result.
scheduler::Outcome outcome_of(std::string_view status, std::string detail, std::string payload,
                              bool new_oom_kill, std::uint64_t memory_bytes);

scheduler::ExitInfo exit_info_of(const ExitFacts& facts, std::uint64_t memory_bytes);

std::string memory_exceeded(std::uint64_t memory_bytes);

}  // namespace gaffer::environment::detail
