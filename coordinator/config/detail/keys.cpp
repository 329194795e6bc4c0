#include "coordinator/config/detail/keys.hpp"

#include <algorithm>
#include <cctype>
#include <functional>

#include "coordinator/config/detail/units.hpp"

namespace gaffer::config::detail {
namespace {

using Reason = std::optional<std::string>;
using Setter = std::function<Reason(const Value&, Config&)>;

struct Key {
    std::string_view section;
    std::string_view name;
    Setter set;
};


Reason wrong_type(const Value& v, std::string_view wanted) {
    return "must be " + std::string(wanted) + ", not " + v.description;
}

template <class Field>
Setter integer(Field field, std::int64_t min, std::int64_t max) {
    return [=](const Value& v, Config& c) -> Reason {
        if (v.kind != Value::Kind::integer) return wrong_type(v, "an integer");
        if (v.integer < min || v.integer > max)
            return "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                   " (got " + std::to_string(v.integer) + ")";
        auto& target = field(c);
        target = static_cast<std::remove_reference_t<decltype(target)>>(v.integer);
        return std::nullopt;
    };
}

// A byte count: an integer, or a size string such as "8M".
template <class Field>
Setter bytes(Field field, std::uint64_t min, std::uint64_t max) {
    return [=](const Value& v, Config& c) -> Reason {
        std::optional<std::uint64_t> n;
        if (v.kind == Value::Kind::string) {
            n = base::parse_size(v.text);
            if (!n) return base::quoted(v.text) + " is not a size (use e.g. 512K, 8M, 1G)";
        } else if (v.kind == Value::Kind::integer && v.integer >= 0) {
            n = static_cast<std::uint64_t>(v.integer);
        } else {
            return wrong_type(v, "a byte count or a size string like \"8M\"");
        }
        if (*n < min || *n > max)
            return "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                   " bytes (got " + std::to_string(*n) + ")";
        field(c) = *n;
        return std::nullopt;
    };
}

template <class Field>
Setter duration(Field field, Millis min, Millis max) {
    return [=](const Value& v, Config& c) -> Reason {
        if (v.kind != Value::Kind::string) return wrong_type(v, "a duration string like \"5m\"");
        auto d = base::parse_duration(v.text);
        if (!d) return base::quoted(v.text) + " is not a duration (use e.g. 500ms, 3s, 5m, 1h)";
        if (*d < min || *d > max)
            return "must be between " + format_duration(min) + " and " + format_duration(max) +
                   " (got " + v.text + ")";
        field(c) = *d;
        return std::nullopt;
    };
}

template <class Field>
Setter boolean(Field field) {
    return [=](const Value& v, Config& c) -> Reason {
        if (v.kind != Value::Kind::boolean) return wrong_type(v, "true or false");
        field(c) = v.boolean;
        return std::nullopt;
    };
}

// A string checked by `rule`, which returns the reason a value is refused.
template <class Field, class Rule>
Setter text(Field field, Rule rule) {
    return [=](const Value& v, Config& c) -> Reason {
        if (v.kind != Value::Kind::string) return wrong_type(v, "a string");
        if (v.text.find('\0') != std::string::npos) return std::string("must not contain a NUL byte");
        if (auto reason = rule(v.text)) return reason;
        field(c) = v.text;
        return std::nullopt;
    };
}

Reason absolute_path(const std::string& p) {
    if (p.empty() || p[0] != '/') return base::quoted(p) + " must be an absolute path";
    if (p.size() >= 4096) return std::string("is longer than 4095 bytes");
    if (("/" + p + "/").find("/../") != std::string::npos)
        return base::quoted(p) + " must not contain \"..\" components";
    return std::nullopt;
}

Reason socket_path(const std::string& p) {
    if (auto reason = absolute_path(p)) return reason;
    if (p.size() >= 108) return "is " + std::to_string(p.size()) + " bytes; a socket path must be shorter than 108";
    return std::nullopt;
}

// An account: [a-z_][a-z0-9_-]{0,31} or a numeric id, the same rule manifests use.
Reason account(const std::string& a) {
    if (!a.empty() && a.size() <= 10 && std::all_of(a.begin(), a.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        std::stoull(a) <= 4294967294u)
        return std::nullopt;
    bool ok = !a.empty() && a.size() <= 32 && ((a[0] >= 'a' && a[0] <= 'z') || a[0] == '_');
    for (char c : a) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
    if (ok) return std::nullopt;
    return base::quoted(a) + " is not a valid account name ([a-z_][a-z0-9_-]{0,31}) or numeric id";
}

Reason cgroup_path(const std::string& p) {
    const std::string hint = " (a relative path such as \"gaffer\" or \"edge/gaffer\")";
    if (p.empty() || p.size() > 255) return base::quoted(p) + " is not a cgroup path" + hint;
    std::size_t start = 0;
    while (start <= p.size()) {
        auto end = std::min(p.find('/', start), p.size());
        const std::string part = p.substr(start, end - start);
        const bool ok = !part.empty() && part != "." && part != ".." &&
                        std::all_of(part.begin(), part.end(), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
                        });
        if (!ok) return base::quoted(p) + " is not a cgroup path" + hint;
        start = end + 1;
    }
    return std::nullopt;
}

// tcp://host:port, the form Paho takes (TLS listeners are configured on the broker side).
Reason broker_uri(const std::string& u) {
    const std::string hint = " (write it as tcp://host:port, e.g. tcp://127.0.0.1:1883)";
    if (u.rfind("tcp://", 0) != 0) return base::quoted(u) + " is not a broker address" + hint;
    const auto colon = u.rfind(':');
    const std::string host = colon > 6 ? u.substr(6, colon - 6) : "";
    const std::string port = colon > 6 ? u.substr(colon + 1) : "";
    const bool port_ok = !port.empty() && port.size() <= 5 &&
                         port.find_first_not_of("0123456789") == std::string::npos &&
                         std::stoul(port) >= 1 && std::stoul(port) <= 65535;
    const bool host_ok = !host.empty() && host.find_first_of("/ @") == std::string::npos;
    if (!host_ok || !port_ok) return base::quoted(u) + " is not a broker address" + hint;
    return std::nullopt;
}

// An MQTT client id or user name as Gaffer uses them: 1..64 printable ASCII, no spaces.
Reason mqtt_identifier(const std::string& id) {
    const bool ok = !id.empty() && id.size() <= 64 &&
                    std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c < 127; });
    if (ok) return std::nullopt;
    return base::quoted(id) + " must be 1 to 64 printable ASCII characters without spaces";
}

Setter log_level() {
    return [](const Value& v, Config& c) -> Reason {
        if (v.kind != Value::Kind::string) return wrong_type(v, "a string");
        static const std::pair<std::string_view, base::LogLevel> levels[] = {
            {"debug", base::LogLevel::debug}, {"info", base::LogLevel::info},
            {"warning", base::LogLevel::warning}, {"error", base::LogLevel::error}};
        for (const auto& [name, level] : levels) {
            if (v.text == name) return c.daemon.log_level = level, std::nullopt;
        }
        return base::quoted(v.text) + " is not one of debug, info, warning, error";
    };
}

// A permission mode: an integer (write 0o660 in TOML; 0660 is a TOML syntax error) or
// an octal string "0660".
Setter socket_mode() {
    return [](const Value& v, Config& c) -> Reason {
        std::int64_t mode = -1;
        if (v.kind == Value::Kind::integer) {
            mode = v.integer;
        } else if (v.kind == Value::Kind::string) {
            const bool octal = !v.text.empty() && v.text.size() <= 4 &&
                               v.text.find_first_not_of("01234567") == std::string::npos;
            if (!octal) return base::quoted(v.text) + " is not an octal mode like \"0660\"";
            mode = std::stoll(v.text, nullptr, 8);
        } else {
            return wrong_type(v, "an octal mode like \"0660\"");
        }
        if (mode < 0 || mode > 0777)
            return v.text + " is not a permission mode (0 to 0777); write it as \"0660\" or 0o660";
        c.api.socket_mode = static_cast<std::uint32_t>(mode);
        return std::nullopt;
    };
}

#define GAFFER_FIELD(path) [](Config& c) -> auto& { return c.path; }

const std::vector<Key>& schema() {
    using namespace std::chrono;
    static const std::vector<Key> keys = {
        {"daemon", "state_dir", text(GAFFER_FIELD(daemon.state_dir), absolute_path)},
        {"daemon", "log_level", log_level()},
        {"daemon", "allow_root_tasks", boolean(GAFFER_FIELD(daemon.allow_root_tasks))},
        {"daemon", "default_user", text(GAFFER_FIELD(daemon.default_user), account)},
        {"daemon", "max_tasks", integer(GAFFER_FIELD(daemon.max_tasks), 1, 65536)},
        {"api", "socket", text(GAFFER_FIELD(api.socket), socket_path)},
        {"api", "socket_mode", socket_mode()},
        {"api", "socket_group", text(GAFFER_FIELD(api.socket_group),
                                     [](const std::string& g) { return g.empty() ? std::nullopt : account(g); })},
        {"api", "max_request_bytes", bytes(GAFFER_FIELD(api.max_request_bytes), 4096, 64u << 20)},
        {"api", "max_connections", integer(GAFFER_FIELD(api.max_connections), 1, 4096)},
        {"scheduler", "queue_limit", integer(GAFFER_FIELD(scheduler.queue_limit), 1, 100000)},
        {"scheduler", "max_environments", integer(GAFFER_FIELD(scheduler.max_environments), 1, 4096)},
        {"scheduler", "idle_timeout", duration(GAFFER_FIELD(scheduler.idle_timeout), seconds(1), hours(24))},
        {"scheduler", "restart_backoff_initial",
         duration(GAFFER_FIELD(scheduler.restart_backoff_initial), milliseconds(10), hours(1))},
        {"scheduler", "restart_backoff_max",
         duration(GAFFER_FIELD(scheduler.restart_backoff_max), milliseconds(10), hours(24))},
        {"scheduler", "broken_after_failures", integer(GAFFER_FIELD(scheduler.broken_after_failures), 1, 1000)},
        {"scheduler", "broken_window", duration(GAFFER_FIELD(scheduler.broken_window), seconds(1), hours(24 * 7))},
        {"scheduler", "stop_grace", duration(GAFFER_FIELD(scheduler.stop_grace), milliseconds(0), minutes(10))},
        {"scheduler", "async_result_retention",
         integer(GAFFER_FIELD(scheduler.async_result_retention), 1, 1000000)},
        {"environments", "init_path", text(GAFFER_FIELD(environments.init_path), absolute_path)},
        {"environments", "cgroup_parent", text(GAFFER_FIELD(environments.cgroup_parent), cgroup_path)},
        {"environments", "log_dir", text(GAFFER_FIELD(environments.log_dir), absolute_path)},
        {"environments", "log_max_bytes", bytes(GAFFER_FIELD(environments.log_max_bytes), 4096, 1u << 30)},
        {"environments", "log_keep", integer(GAFFER_FIELD(environments.log_keep), 0, 100)},
        {"environments", "runtime_api_port", integer(GAFFER_FIELD(environments.runtime_api_port), 1, 65535)},
        {"environments", "favor_dynamic_cgroups", boolean(GAFFER_FIELD(environments.favor_dynamic_cgroups))},
        {"environments", "init_pool_size", integer(GAFFER_FIELD(environments.init_pool_size), 0, 16)},
        {"broker", "enabled", boolean(GAFFER_FIELD(broker.enabled))},
        {"broker", "uri", text(GAFFER_FIELD(broker.uri), broker_uri)},
        {"broker", "username", text(GAFFER_FIELD(broker.username), mqtt_identifier)},
        {"broker", "password_file", text(GAFFER_FIELD(broker.password_file), absolute_path)},
        {"broker", "client_id", text(GAFFER_FIELD(broker.client_id), mqtt_identifier)},
        {"broker", "advertised_uri", text(GAFFER_FIELD(broker.advertised_uri),
                                          [](const std::string& u) { return u.empty() ? std::nullopt : broker_uri(u); })},
        {"broker", "ingest_socket", text(GAFFER_FIELD(broker.ingest_socket),
                                         [](const std::string& p) { return p.empty() ? std::nullopt : socket_path(p); })},
        {"broker", "keep_alive", duration(GAFFER_FIELD(broker.keep_alive), seconds(5), minutes(10))},
        {"broker", "reconnect_min", duration(GAFFER_FIELD(broker.reconnect_min), milliseconds(10), minutes(1))},
        {"broker", "reconnect_max", duration(GAFFER_FIELD(broker.reconnect_max), milliseconds(10), hours(1))},
        {"devices", "max_devices", integer(GAFFER_FIELD(devices.max_devices), 1, 1000000)},
        {"devices", "max_routes", integer(GAFFER_FIELD(devices.max_routes), 1, 100000)},
        {"devices", "max_message_bytes", bytes(GAFFER_FIELD(devices.max_message_bytes), 1024, 8u << 20)},
        {"devices", "outbox_limit", integer(GAFFER_FIELD(devices.outbox_limit), 1, 10000000)},
    };
    return keys;
}

#undef GAFFER_FIELD

}  // namespace

const std::vector<std::string_view>& sections() {
    static const std::vector<std::string_view> names = {"daemon", "api", "scheduler", "environments", "broker", "devices"};
    return names;
}

std::vector<std::string_view> keys_of(std::string_view section) {
    std::vector<std::string_view> out;
    for (const Key& k : schema())
        if (k.section == section) out.push_back(k.name);
    return out;
}

std::optional<std::string> apply(std::string_view section, std::string_view key, const Value& value,
                                 Config& config) {
    for (const Key& k : schema())
        if (k.section == section && k.name == key) return k.set(value, config);
    return "unknown key";
}

std::optional<std::string> check_consistency(const Config& c) {
    if (c.scheduler.restart_backoff_max < c.scheduler.restart_backoff_initial)
        return "scheduler.restart_backoff_max: must not be less than restart_backoff_initial (" +
               format_duration(c.scheduler.restart_backoff_initial) + ")";
    if (c.broker.reconnect_max < c.broker.reconnect_min)
        return "broker.reconnect_max: must not be less than reconnect_min (" +
               format_duration(c.broker.reconnect_min) + ")";
    const auto& user = c.daemon.default_user;
    if ((user == "root" || user.find_first_not_of('0') == std::string::npos) && !c.daemon.allow_root_tasks)
        return "daemon.default_user: \"" + user + "\" is root, which needs allow_root_tasks = true";
    return std::nullopt;
}

}  // namespace gaffer::config::detail
