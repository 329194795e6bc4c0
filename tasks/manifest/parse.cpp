// Manifest validation: one function per field group, all reporting through one
// FieldReader so that the first problem wins and names its JSON path.
#include <cmath>
#include <set>

#include "tasks/manifest/detail/json_fields.hpp"
#include "tasks/manifest/detail/rules.hpp"
#include "tasks/manifest/manifest.hpp"

namespace gaffer::manifest {
namespace {

using detail::FieldReader;
using detail::json;
using namespace std::chrono_literals;

constexpr std::size_t kMaxManifestBytes = 64 * 1024;
constexpr std::size_t kMaxArgs = 256;
constexpr std::size_t kMaxEnvironment = 256;
constexpr std::size_t kMaxResources = 64;
constexpr auto kMinTimeout = 1ms;
constexpr auto kMaxTimeout = std::chrono::milliseconds(15min);
constexpr std::uint64_t kMinMemory = 4ull << 20;
constexpr std::uint64_t kMaxMemory = 1ull << 40;

class Reader {
public:
    explicit Reader(const json& document) : doc_(document) {}

    base::Result<Manifest> read() {
        r_.only_known(doc_, "", {"name", "version", "owner", "command", "artifact_dir",
                                 "working_dir", "environment", "mode", "interface", "handler",
                                 "timeout", "limits", "user", "group", "network", "resources",
                                 "max_concurrency"});
        read_identity();
        read_command();
        read_directories();
        read_environment();
        read_kind();
        read_timeout();
        read_limits();
        read_accounts();
        read_resources();
        read_concurrency();
        if (auto result = r_.result(); !result) return tl::unexpected(result.error());
        return std::move(m_);
    }

private:
    const json* field(std::string_view key, bool required = false) {
        auto it = doc_.find(key);
        if (it != doc_.end()) return &*it;
        if (required) r_.fail(key, "required field is missing");
        return nullptr;
    }

    template <class Problem>
    void check(std::string_view path, const std::optional<std::string>& value, Problem problem) {
        if (!value) return;
        if (auto reason = problem(*value)) r_.fail(path, *reason);
    }

    void read_identity() {
        if (auto v = field("name", true)) {
            m_.name = r_.string(*v, "name").value_or("");
            check("name", m_.name, detail::name_problem);
        }
        if (auto v = field("version", true)) {
            m_.version = r_.string(*v, "version").value_or("");
            check("version", m_.version, [](std::string_view t) { return detail::text_problem(t, 64); });
        }
        if (auto v = field("owner", true)) {
            m_.owner = r_.string(*v, "owner").value_or("");
            check("owner", m_.owner, detail::name_problem);
        }
    }

    void read_command() {
        const json* v = field("command", true);
        if (!v || !r_.array(*v, "command", kMaxArgs)) return;
        if (v->empty()) return r_.fail("command", "must not be empty (command[0] is the program)");
        for (std::size_t i = 0; i < v->size(); ++i) {
            const auto path = detail::element_path("command", i);
            auto arg = r_.string((*v)[i], path);
            if (!arg) return;
            if (i == 0) check(path, arg, detail::program_problem);
            m_.command.push_back(std::move(*arg));
        }
    }

    void read_directories() {
        if (auto v = field("artifact_dir", true)) {
            m_.artifact_dir = r_.string(*v, "artifact_dir").value_or("");
            check("artifact_dir", m_.artifact_dir, detail::absolute_path_problem);
        }
        if (auto v = field("working_dir")) {
            m_.working_dir = r_.string(*v, "working_dir").value_or("");
            check("working_dir", m_.working_dir, detail::absolute_path_problem);
        }
    }

    void read_environment() {
        const json* v = field("environment");
        if (!v || !r_.object(*v, "environment")) return;
        if (v->size() > kMaxEnvironment)
            return r_.fail("environment", "has " + std::to_string(v->size()) +
                                              " variables; at most 256 are allowed");
        for (const auto& [key, value] : v->items()) {
            if (auto reason = detail::variable_name_problem(key)) return r_.fail("environment", *reason);
            auto text = r_.string(value, detail::member_path("environment", key));
            if (!text) return;
            m_.environment.emplace(key, std::move(*text));
        }
    }

    // Reads a string field that must be one of `names`; returns its index.
    std::optional<std::size_t> one_of(std::string_view key, std::initializer_list<std::string_view> names) {
        const json* v = field(key);
        if (!v) return std::nullopt;
        auto text = r_.string(*v, key);
        if (!text) return std::nullopt;
        std::size_t i = 0;
        std::string list;
        for (std::string_view name : names) {
            if (*text == name) return i;
            list += (i++ ? ", " : "") + std::string(name);
        }
        r_.fail(key, "\"" + *text + "\" is not one of " + list);
        return std::nullopt;
    }

    void read_kind() {
        if (auto i = one_of("mode", {"on-demand", "long-lived"})) m_.mode = static_cast<Mode>(*i);
        if (auto i = one_of("interface", {"lambda", "process"})) m_.interface = static_cast<Interface>(*i);
        if (auto i = one_of("network", {"host", "none"})) m_.network = static_cast<Network>(*i);
        if (auto v = field("handler")) {
            m_.handler = r_.string(*v, "handler").value_or("");
            if (m_.handler.empty()) return;
            check("handler", m_.handler, [](std::string_view t) { return detail::text_problem(t, 256); });
            if (m_.interface != Interface::lambda)
                r_.fail("handler", "only a task with interface \"lambda\" has a handler");
        }
    }

    void read_timeout() {
        const json* v = field("timeout");
        if (!v) return;
        std::optional<std::chrono::milliseconds> timeout;
        if (v->is_string()) {
            const auto& text = v->get_ref<const std::string&>();
            timeout = base::parse_duration(text);
            if (!timeout) return r_.fail("timeout", "\"" + text + "\" is not a duration (use e.g. 500ms, 3s, 2m)");
        } else if (v->is_number_integer()) {
            if (auto ms = r_.integer(*v, "timeout", 0, INT64_MAX)) timeout = std::chrono::milliseconds(*ms);
            if (!timeout) return;
        } else {
            return r_.fail("timeout", "must be integer milliseconds or a duration string like \"3s\", not " +
                                          detail::describe(*v));
        }
        if (*timeout < kMinTimeout || *timeout > kMaxTimeout)
            return r_.fail("timeout", "must be between 1ms and 15m (got " + std::to_string(timeout->count()) + "ms)");
        m_.timeout = *timeout;
    }

    void read_limits() {
        const json* v = field("limits");
        if (!v || !r_.object(*v, "limits")) return;
        r_.only_known(*v, "limits", {"memory", "cpu", "pids"});
        if (auto it = v->find("memory"); it != v->end()) read_memory(*it);
        if (auto it = v->find("cpu"); it != v->end()) {
            if (!it->is_number())
                return r_.fail("limits.cpu", "must be a number of CPUs such as 0.5, not " + detail::describe(*it));
            const double cpus = it->get<double>();
            if (!(cpus >= 0.01 && cpus <= 64))
                return r_.fail("limits.cpu", "must be between 0.01 and 64 (got " + it->dump() + ")");
            m_.limits.cpu_millis = static_cast<std::uint32_t>(std::lround(cpus * 1000));
        }
        if (auto it = v->find("pids"); it != v->end()) {
            if (auto pids = r_.integer(*it, "limits.pids", 1, 32768)) m_.limits.pids = static_cast<std::uint32_t>(*pids);
        }
    }

    void read_memory(const json& v) {
        std::optional<std::uint64_t> bytes;
        if (v.is_string()) {
            const auto& text = v.get_ref<const std::string&>();
            bytes = base::parse_size(text);
            if (!bytes) return r_.fail("limits.memory", "\"" + text + "\" is not a size (use e.g. 64M)");
        } else if (v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
            bytes = v.get<std::uint64_t>();
        } else {
            return r_.fail("limits.memory", "must be a size string like \"64M\" or a byte count, not " +
                                                (v.is_number_integer() ? "negative" : detail::describe(v)));
        }
        if (*bytes < kMinMemory || *bytes > kMaxMemory)
            return r_.fail("limits.memory", "must be between 4M and 1T (got " + std::to_string(*bytes) + " bytes)");
        m_.limits.memory_bytes = *bytes;
    }

    void read_accounts() {
        if (auto v = field("user")) {
            m_.user = r_.string(*v, "user").value_or("");
            check("user", m_.user, detail::account_problem);
        }
        if (auto v = field("group")) {
            m_.group = r_.string(*v, "group").value_or("");
            if (!m_.group.empty()) check("group", m_.group, detail::account_problem);
        }
    }

    void read_resources() {
        const json* v = field("resources");
        if (!v || !r_.array(*v, "resources", kMaxResources)) return;
        std::map<std::string, std::size_t> targets;
        for (std::size_t i = 0; i < v->size() && r_.ok(); ++i) {
            const auto path = detail::element_path("resources", i);
            auto resource = read_resource((*v)[i], path);
            if (!resource) return;
            auto [it, fresh] = targets.emplace(resource->target, i);
            if (!fresh)
                return r_.fail(path + ".target", "\"" + resource->target + "\" is already used by " +
                                                     detail::element_path("resources", it->second));
            m_.resources.push_back(std::move(*resource));
        }
    }

    std::optional<LocalResource> read_resource(const json& v, const std::string& path) {
        if (!r_.object(v, path)) return std::nullopt;
        r_.only_known(v, path, {"type", "source", "target", "writable"});
        LocalResource res;
        auto member = [&](std::string_view key, bool required) -> const json* {
            auto it = v.find(key);
            if (it != v.end()) return &*it;
            if (required) r_.fail(detail::member_path(path, key), "required field is missing");
            return nullptr;
        };
        if (const json* type = member("type", true)) {
            auto text = r_.string(*type, path + ".type");
            if (text && *text == "device") res.kind = LocalResource::Kind::device;
            else if (text && *text != "directory")
                r_.fail(path + ".type", "\"" + *text + "\" is not one of device, directory");
        }
        if (const json* source = member("source", true)) {
            res.source = r_.string(*source, path + ".source").value_or("");
            check(path + ".source", res.source, detail::absolute_path_problem);
            if (r_.ok() && res.kind == LocalResource::Kind::device && res.source.rfind("/dev/", 0) != 0)
                r_.fail(path + ".source", "a device must be under /dev/ (got \"" + res.source + "\")");
        }
        res.target = res.source;
        if (const json* target = member("target", false)) {
            res.target = r_.string(*target, path + ".target").value_or("");
            check(path + ".target", res.target, detail::absolute_path_problem);
        }
        if (r_.ok() && (res.target == "/" || res.target == "/task" || res.target.rfind("/task/", 0) == 0))
            r_.fail(path + ".target", "\"" + res.target + "\" would cover / or the task's own /task");
        if (const json* writable = member("writable", false))
            res.writable = r_.boolean(*writable, path + ".writable").value_or(false);
        if (!r_.ok()) return std::nullopt;
        return res;
    }

    void read_concurrency() {
        if (auto v = field("max_concurrency")) {
            if (auto n = r_.integer(*v, "max_concurrency", 1, 256)) m_.max_concurrency = static_cast<std::uint32_t>(*n);
        }
        if (r_.ok() && m_.mode == Mode::long_lived && m_.max_concurrency > 1)
            r_.fail("max_concurrency", "a long-lived task runs as one instance; must be 1 (got " +
                                           std::to_string(m_.max_concurrency) + ")");
    }

    const json& doc_;
    FieldReader r_;
    Manifest m_;
};

}  // namespace

base::Result<Manifest> parse(std::string_view text) {
    if (text.size() > kMaxManifestBytes)
        return base::fail(base::Errc::invalid, "manifest is " + std::to_string(text.size()) +
                                                   " bytes; at most 65536 are allowed");
    auto document = detail::parse_strict(text);
    if (!document) return tl::unexpected(document.error());
    if (!document->is_object())
        return base::fail(base::Errc::invalid,
                          "manifest must be a JSON object, not " + detail::describe(*document));
    return Reader(*document).read();
}

}  // namespace gaffer::manifest
