#include "tasks/environment/detail/exit_report.hpp"

#include "tasks/runtime/runtime.hpp"

namespace gaffer::environment::detail {

using scheduler::ExitInfo;
using scheduler::Outcome;
using scheduler::Status;

std::string memory_exceeded(std::uint64_t memory_bytes) {
    return "memory limit of " + std::to_string(memory_bytes) + " bytes exceeded";
}

Outcome outcome_of(std::string_view status, std::string detail, std::string payload,
                   bool new_oom_kill, std::uint64_t memory_bytes) {
    Outcome outcome;
    outcome.payload = std::move(payload);
    outcome.detail = std::move(detail);
    if (status == runtime::kStatusOk) {
        outcome.status = Status::ok;
    } else if (status == runtime::kStatusFunctionError) {
        outcome.status = Status::function_error;
    } else if (status == runtime::kStatusTimeout) {
        outcome.status = Status::timeout;
    } else {
        outcome.status = Status::crashed;
        if (status != runtime::kStatusCrashed)
            outcome.detail = "unknown result status \"" + std::string(status) + "\": " + outcome.detail;
    }
    // The kernel's SIGKILL looks like any other death to gaffer-init (a crash, or a
    // non-zero exit of a process task); only the cgroup knows it was the memory limit.
    if (new_oom_kill && (outcome.status == Status::crashed || outcome.status == Status::function_error)) {
        outcome.status = Status::out_of_memory;
        outcome.detail = memory_exceeded(memory_bytes);
    }
    return outcome;
}

namespace {

std::string describe_process_exit(std::int64_t status, int signal) {
    if (signal != 0) return "gaffer-init was killed by signal " + std::to_string(signal);
    return "gaffer-init exited with status " + std::to_string(status);
}

}  // namespace

ExitInfo exit_info_of(const ExitFacts& facts, std::uint64_t memory_bytes) {
    const std::string reason = facts.exited ? facts.exited->reason : std::string();
    const std::string said = facts.exited ? facts.exited->detail : std::string();
    const std::string fallback =
        !facts.protocol_error.empty() ? "control channel: " + facts.protocol_error
                                      : describe_process_exit(facts.exit_status, facts.term_signal);
    const std::string detail = said.empty() ? fallback : said;
    const int code = facts.exited ? (facts.exited->signal != 0 ? facts.exited->signal : facts.exited->code)
                                  : static_cast<int>(facts.term_signal != 0 ? facts.term_signal
                                                                            : facts.exit_status);

    if (facts.oom_kills_final > facts.oom_kills_reported)
        return ExitInfo{ExitInfo::Reason::out_of_memory, code, memory_exceeded(memory_bytes)};
    if (!facts.init_error.empty())
        return ExitInfo{ExitInfo::Reason::init_error, code, facts.init_error};
    if (reason == "init_error" || reason == "setup_failed")
        return ExitInfo{ExitInfo::Reason::init_error, code, detail};
    if (facts.stop_requested) return ExitInfo{ExitInfo::Reason::stopped, code, detail};
    if (!facts.ready)
        return ExitInfo{ExitInfo::Reason::init_error, code,
                        said.empty() ? fallback + " before the environment was ready" : said};
    if (reason == "exited") return ExitInfo{ExitInfo::Reason::exited, code, detail};
    if (reason == "stopped") return ExitInfo{ExitInfo::Reason::stopped, code, detail};
    return ExitInfo{ExitInfo::Reason::crashed, code, detail};
}

}  // namespace gaffer::environment::detail
