#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "tasks/runtime/detail/json_text.hpp"
#include "tasks/runtime/runtime.hpp"

namespace gaffer::runtime {
namespace {

using OrderedJson = nlohmann::ordered_json;
using base::Errc;
using base::fail;
using detail::describe;

constexpr std::size_t kMaxListEntries = 256;
constexpr std::size_t kMaxStringBytes = 4096;
constexpr std::uint32_t kMaxLogKeep = 100;
constexpr std::uint64_t kMinLogBytes = 4096;

tl::unexpected<base::Error> bad(const std::string& field, const std::string& why) {
    return fail(Errc::invalid, "launch spec: " + field + ": " + why);
}

// Reads fields out of one JSON object and remembers which keys were used, so that
// leftovers (typos, fields of a newer gafferd) are reported instead of ignored.
class Reader {
public:
    Reader(const OrderedJson& object, std::string path) : object_(object), path_(std::move(path)) {}

    std::string field(const std::string& key) const {
        return path_.empty() ? key : path_ + "." + key;
    }
    const OrderedJson* find(const std::string& key) {
        used_.insert(key);
        auto it = object_.find(key);
        return it == object_.end() ? nullptr : &*it;
    }

    base::Result<void> string(const std::string& key, std::string& out, bool required = false,
                              bool absolute_path = false) {
        const OrderedJson* v = find(key);
        if (!v) {
            if (required) return bad(field(key), "is required");
            return {};
        }
        if (!v->is_string()) return bad(field(key), "expected a string, got " + describe(*v));
        auto s = v->get<std::string>();
        if (s.size() > kMaxStringBytes) return bad(field(key), "longer than 4096 bytes");
        if (s.find('\0') != std::string::npos) return bad(field(key), "contains a NUL byte");
        if (required && s.empty()) return bad(field(key), "must not be empty");
        if (absolute_path && !s.empty() && s.front() != '/')
            return bad(field(key), "\"" + s + "\" is not an absolute path");
        out = std::move(s);
        return {};
    }

    template <class T>
    base::Result<void> number(const std::string& key, T& out, std::uint64_t min = 0,
                              std::uint64_t max = std::numeric_limits<T>::max()) {
        const OrderedJson* v = find(key);
        if (!v) return {};
        if (!v->is_number_unsigned())
            return bad(field(key), "expected an unsigned integer, got " + describe(*v));
        auto n = v->get<std::uint64_t>();
        if (n < min || n > max)
            return bad(field(key), std::to_string(n) + " is out of range [" +
                                       std::to_string(min) + ", " + std::to_string(max) + "]");
        out = static_cast<T>(n);
        return {};
    }

    base::Result<void> boolean(const std::string& key, bool& out) {
        const OrderedJson* v = find(key);
        if (!v) return {};
        if (!v->is_boolean()) return bad(field(key), "expected true or false, got " + describe(*v));
        out = v->get<bool>();
        return {};
    }

    base::Result<void> one_of(const std::string& key, std::string& out,
                              std::initializer_list<const char*> allowed) {
        auto r = string(key, out);
        if (!r) return r;
        for (const char* a : allowed)
            if (out == a) return {};
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : " or ") + "\"" + a + "\"";
        return bad(field(key), "\"" + out + "\" is not " + list);
    }

    base::Result<void> strings(const std::string& key, std::vector<std::string>& out,
                               bool absolute_paths) {
        const OrderedJson* v = find(key);
        if (!v) return {};
        if (!v->is_array()) return bad(field(key), "expected an array of strings, got " + describe(*v));
        if (v->size() > kMaxListEntries) return bad(field(key), "more than 256 entries");
        out.clear();
        for (std::size_t i = 0; i < v->size(); ++i) {
            const OrderedJson& e = (*v)[i];
            const std::string name = field(key) + "[" + std::to_string(i) + "]";
            if (!e.is_string()) return bad(name, "expected a string, got " + describe(e));
            auto s = e.get<std::string>();
            if (s.find('\0') != std::string::npos) return bad(name, "contains a NUL byte");
            if (absolute_paths && (s.empty() || s.front() != '/'))
                return bad(name, "\"" + s + "\" is not an absolute path");
            out.push_back(std::move(s));
        }
        return {};
    }

    base::Result<void> no_unknown_keys() const {
        for (auto it = object_.begin(); it != object_.end(); ++it)
            if (!used_.count(it.key())) return bad(field(it.key()), "unknown field");
        return {};
    }

private:
    const OrderedJson& object_;
    std::string path_;
    std::set<std::string> used_;
};

#define GAFFER_TRY(expr)              \
    do {                              \
        auto gaffer_r_ = (expr);      \
        if (!gaffer_r_) return tl::unexpected(gaffer_r_.error()); \
    } while (0)

base::Result<void> parse_environment(Reader& r, LaunchSpec& spec) {
    const OrderedJson* env = r.find("environment");
    if (!env) return {};
    if (!env->is_object()) return bad("environment", "expected an object of strings, got " + describe(*env));
    if (env->size() > kMaxListEntries) return bad("environment", "more than 256 entries");
    for (auto it = env->begin(); it != env->end(); ++it) {
        const std::string name = "environment." + it.key();
        if (it.key().empty() || it.key().find_first_of("=\0", 0, 2) != std::string::npos)
            return bad(name, "a variable name must be non-empty and contain no '=' or NUL");
        if (!it.value().is_string()) return bad(name, "expected a string, got " + describe(it.value()));
        auto value = it.value().get<std::string>();
        if (value.find('\0') != std::string::npos) return bad(name, "contains a NUL byte");
        spec.environment.emplace_back(it.key(), std::move(value));
    }
    return {};
}

base::Result<void> parse_resources(Reader& r, LaunchSpec& spec) {
    const OrderedJson* list = r.find("resources");
    if (!list) return {};
    if (!list->is_array()) return bad("resources", "expected an array, got " + describe(*list));
    if (list->size() > kMaxListEntries) return bad("resources", "more than 256 entries");
    for (std::size_t i = 0; i < list->size(); ++i) {
        const OrderedJson& e = (*list)[i];
        const std::string path = "resources[" + std::to_string(i) + "]";
        if (!e.is_object()) return bad(path, "expected an object, got " + describe(e));
        Reader item(e, path);
        LaunchSpec::Resource res;
        GAFFER_TRY(item.string("source", res.source, true, true));
        GAFFER_TRY(item.string("target", res.target, false, true));
        if (res.target.empty()) res.target = res.source;
        GAFFER_TRY(item.boolean("writable", res.writable));
        GAFFER_TRY(item.boolean("device", res.device));
        GAFFER_TRY(item.no_unknown_keys());
        spec.resources.push_back(std::move(res));
    }
    return {};
}

}  // namespace

std::string to_json(const LaunchSpec& spec) {
    OrderedJson j;
    j["task"] = spec.task;
    j["command"] = spec.command;
    OrderedJson env = OrderedJson::object();
    for (const auto& [k, v] : spec.environment) env[k] = v;
    j["environment"] = std::move(env);
    j["working_dir"] = spec.working_dir;
    j["interface"] = spec.interface;
    j["mode"] = spec.mode;
    j["handler"] = spec.handler;
    j["timeout_ms"] = spec.timeout_ms;
    j["uid"] = spec.uid;
    j["gid"] = spec.gid;
    j["network"] = spec.network;
    j["hostname"] = spec.hostname;
    j["cgroup_procs"] = spec.cgroup_procs;
    j["artifact_dir"] = spec.artifact_dir;
    OrderedJson resources = OrderedJson::array();
    for (const auto& r : spec.resources)
        resources.push_back(
            {{"source", r.source}, {"target", r.target}, {"writable", r.writable}, {"device", r.device}});
    j["resources"] = std::move(resources);
    j["hidden_paths"] = spec.hidden_paths;
    j["log_path"] = spec.log_path;
    j["log_max_bytes"] = spec.log_max_bytes;
    j["log_keep"] = spec.log_keep;
    j["runtime_api_port"] = spec.runtime_api_port;
    j["version"] = spec.version;
    j["memory_bytes"] = spec.memory_bytes;
    j["service_timeout_ms"] = spec.service_timeout_ms;
    return j.dump();
}

base::Result<LaunchSpec> parse_launch_spec(std::string_view json) {
    OrderedJson j = OrderedJson::parse(json, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return fail(Errc::invalid, "launch spec: not valid JSON");
    if (!j.is_object()) return fail(Errc::invalid, "launch spec: expected a JSON object, got " + describe(j));
    LaunchSpec spec;
    Reader r(j, "");
    GAFFER_TRY(r.string("task", spec.task, true));
    GAFFER_TRY(r.strings("command", spec.command, false));
    if (!r.find("command")) return bad("command", "is required");
    if (spec.command.empty() || spec.command.front().empty())
        return bad("command", "must name a program");
    GAFFER_TRY(parse_environment(r, spec));
    GAFFER_TRY(r.string("working_dir", spec.working_dir, false, true));
    if (spec.working_dir.empty()) return bad("working_dir", "must not be empty");
    GAFFER_TRY(r.one_of("interface", spec.interface, {"lambda", "process"}));
    GAFFER_TRY(r.one_of("mode", spec.mode, {"on-demand", "long-lived"}));
    GAFFER_TRY(r.string("handler", spec.handler));
    GAFFER_TRY(r.number("timeout_ms", spec.timeout_ms, 1));
    GAFFER_TRY(r.number("uid", spec.uid, 0, 0xfffffffeu));  // (uid_t)-1 means "unchanged"
    GAFFER_TRY(r.number("gid", spec.gid, 0, 0xfffffffeu));
    GAFFER_TRY(r.one_of("network", spec.network, {"host", "none"}));
    GAFFER_TRY(r.string("hostname", spec.hostname));
    if (spec.hostname.empty() || spec.hostname.size() > 64)
        return bad("hostname", "must be 1 to 64 bytes");
    GAFFER_TRY(r.strings("cgroup_procs", spec.cgroup_procs, true));
    GAFFER_TRY(r.string("artifact_dir", spec.artifact_dir, false, true));
    GAFFER_TRY(parse_resources(r, spec));
    GAFFER_TRY(r.strings("hidden_paths", spec.hidden_paths, true));
    GAFFER_TRY(r.string("log_path", spec.log_path, false, true));
    GAFFER_TRY(r.number("log_max_bytes", spec.log_max_bytes, kMinLogBytes));
    GAFFER_TRY(r.number("log_keep", spec.log_keep, 0, kMaxLogKeep));
    GAFFER_TRY(r.number("runtime_api_port", spec.runtime_api_port));
    GAFFER_TRY(r.string("version", spec.version));
    GAFFER_TRY(r.number("memory_bytes", spec.memory_bytes));
    GAFFER_TRY(r.number("service_timeout_ms", spec.service_timeout_ms, 1));
    GAFFER_TRY(r.no_unknown_keys());
    return spec;
}

}  // namespace gaffer::runtime
