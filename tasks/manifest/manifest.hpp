// gaffer::manifest — task definitions: parse and validate a JSON manifest (bytes in, value
// out; no I/O), and write one back. Pure and thread-agnostic.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/base.hpp"

namespace gaffer::manifest {

enum class Mode { on_demand, long_lived };
enum class Interface { lambda, process };
enum class Network { host, none };

// A host path made visible inside the environment.
struct LocalResource {
    enum class Kind { device, directory } kind = Kind::directory;
    std::string source;       // absolute host path
    std::string target;       // absolute path inside the environment (defaults to source)
    bool writable = false;
};

struct Limits {
    std::uint64_t memory_bytes = 64ull << 20;  // "memory": "64M" / bytes
    std::uint32_t cpu_millis = 1000;           // "cpu": 0.5 -> 500 (thousandths of a CPU)
    std::uint32_t pids = 64;
};

struct Manifest {
    std::string name;      // [a-z0-9][a-z0-9_.-]{0,62}
    std::string version;   // free text, non-empty, <= 64 bytes
    std::string owner;     // user or tenant the task belongs to, same charset as name
    std::vector<std::string> command;  // argv; command[0] absolute, or relative to /task
    std::string artifact_dir;          // absolute host directory, mounted read-only at /task
    std::string working_dir = "/task"; // inside the environment
    std::map<std::string, std::string> environment;
    Mode mode = Mode::on_demand;
    Interface interface = Interface::lambda;
    std::string handler;               // exported as _HANDLER for lambda tasks
    std::chrono::milliseconds timeout{3000};
    Limits limits;
    std::string user;                  // name or numeric id; empty: the daemon's default_user
    std::string group;                 // empty: the user's primary group
    Network network = Network::host;
    std::vector<LocalResource> resources;
    std::uint32_t max_concurrency = 1;
};

// Parses and validates (the rules and bounds are in docs/tasks.md). On failure the error
// is Errc::invalid and its message names the field as a JSON path and the reason, e.g.
// `limits.memory: "12Q" is not a size (use e.g. 64M)`. Also refused: text over 64 KiB,
// malformed JSON (`malformed JSON at byte N: ...`), unknown or repeated fields at any
// level, NUL bytes in strings. Only the first problem is reported. Never throws.
// Absent fields take the defaults above; a resource without target gets its source.
// Policy that depends on the daemon (e.g. whether root tasks are allowed) is not checked.
base::Result<Manifest> parse(std::string_view json);

// The canonical JSON form: every field present, timeout in milliseconds, memory in bytes.
// parse(to_json(m)) == m for every m that parse() returned.
std::string to_json(const Manifest& manifest);

bool operator==(const LocalResource&, const LocalResource&);
bool operator==(const Limits&, const Limits&);
bool operator==(const Manifest&, const Manifest&);

}  // namespace gaffer::manifest
