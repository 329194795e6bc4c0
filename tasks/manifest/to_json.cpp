// The canonical JSON form: every field present (but `user` when it is empty), sizes in bytes, the timeout in
// milliseconds, keys in declaration order, so that parse(to_json(m)) == m.
#include <nlohmann/json.hpp>

#include "tasks/manifest/manifest.hpp"

namespace gaffer::manifest {
namespace {

const char* name_of(Mode mode) { return mode == Mode::on_demand ? "on-demand" : "long-lived"; }
const char* name_of(Interface i) { return i == Interface::lambda ? "lambda" : "process"; }
const char* name_of(Network n) { return n == Network::host ? "host" : "none"; }
const char* name_of(LocalResource::Kind k) {
    return k == LocalResource::Kind::device ? "device" : "directory";
}

}  // namespace

std::string to_json(const Manifest& m) {
    using nlohmann::ordered_json;
    ordered_json resources = ordered_json::array();
    for (const auto& r : m.resources) {
        resources.push_back(ordered_json{{"type", name_of(r.kind)},
                                         {"source", r.source},
                                         {"target", r.target},
                                         {"writable", r.writable}});
    }
    ordered_json environment = ordered_json::object();
    for (const auto& [key, value] : m.environment) environment[key] = value;
    ordered_json out = {
        {"name", m.name},
        {"version", m.version},
        {"owner", m.owner},
        {"command", m.command},
        {"artifact_dir", m.artifact_dir},
        {"working_dir", m.working_dir},
        {"environment", std::move(environment)},
        {"mode", name_of(m.mode)},
        {"interface", name_of(m.interface)},
        {"handler", m.handler},
        {"timeout", m.timeout.count()},
        {"limits", {{"memory", m.limits.memory_bytes},
                    {"cpu", static_cast<double>(m.limits.cpu_millis) / 1000.0},
                    {"pids", m.limits.pids}}},
        {"user", m.user},
        {"group", m.group},
        {"network", name_of(m.network)},
        {"resources", std::move(resources)},
        {"max_concurrency", m.max_concurrency},
    };
    if (m.user.empty()) out.erase("user");  // absent means the daemon's default_user
    // Replacement instead of an exception: a Manifest built in code (not by parse) may
    // hold invalid UTF-8, and serialising must not throw across this boundary.
    return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

bool operator==(const LocalResource& a, const LocalResource& b) {
    return a.kind == b.kind && a.source == b.source && a.target == b.target &&
           a.writable == b.writable;
}

bool operator==(const Limits& a, const Limits& b) {
    return a.memory_bytes == b.memory_bytes && a.cpu_millis == b.cpu_millis && a.pids == b.pids;
}

bool operator==(const Manifest& a, const Manifest& b) {
    return a.name == b.name && a.version == b.version && a.owner == b.owner &&
           a.command == b.command && a.artifact_dir == b.artifact_dir &&
           a.working_dir == b.working_dir && a.environment == b.environment &&
           a.mode == b.mode && a.interface == b.interface && a.handler == b.handler &&
           a.timeout == b.timeout && a.limits == b.limits && a.user == b.user &&
           a.group == b.group && a.network == b.network && a.resources == b.resources &&
           a.max_concurrency == b.max_concurrency;
}

}  // namespace gaffer::manifest
