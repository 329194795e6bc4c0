#include <doctest/doctest.h>


#include <string>

#include "coordinator/config/config.hpp"
#include "gaffer_build_config.hpp"

using namespace gaffer;
using namespace std::chrono_literals;

namespace {

std::string error_of(std::string_view text) {
    auto result = config::parse(text);
    if (result) return "(parsed)";
    CHECK(result.error().code == base::Errc::invalid);
    return result.error().message;
}

}  // namespace

TEST_CASE("empty text gives every default") {
    auto c = config::parse("");
    REQUIRE(c);
    CHECK(*c == config::Config{});
    CHECK(c->daemon.state_dir == "/var/lib/gaffer");
    CHECK(c->daemon.log_level == base::LogLevel::info);
    CHECK_FALSE(c->daemon.allow_root_tasks);
    CHECK(c->daemon.default_user == "gaffer-task");
    CHECK(c->daemon.max_tasks == 256);
    CHECK(c->api.socket == "/run/gaffer/gaffer.sock");
    CHECK(c->api.socket_mode == 0660);
    CHECK(c->api.socket_group == "gaffer");
    CHECK(c->api.max_request_bytes == 8388608);
    CHECK(c->api.max_connections == 64);
    CHECK(c->scheduler.queue_limit == 1000);
    CHECK(c->scheduler.max_environments == 32);
    CHECK(c->scheduler.idle_timeout == 5min);
    CHECK(c->scheduler.restart_backoff_initial == 1s);
    CHECK(c->scheduler.restart_backoff_max == 60s);
    CHECK(c->scheduler.broken_after_failures == 3);
    CHECK(c->scheduler.broken_window == 1h);
    CHECK(c->scheduler.stop_grace == 5s);
    CHECK(c->scheduler.async_result_retention == 10000);
    CHECK(c->environments.init_path == GAFFER_INIT_PATH);
    CHECK(c->environments.cgroup_parent == "gaffer");
    CHECK(c->environments.log_dir == "/var/log/gaffer/tasks");
    CHECK(c->environments.log_max_bytes == 1048576);
    CHECK(c->environments.log_keep == 3);
    CHECK(c->environments.runtime_api_port == 9001);
    CHECK(c->environments.favor_dynamic_cgroups);
    CHECK(c->environments.init_pool_size == 2);
    CHECK(c->broker.enabled);
    CHECK(c->broker.uri == "tcp://127.0.0.1:1883");
    CHECK(c->broker.username == "gaffer-admin");
    CHECK(c->broker.password_file == "/etc/gaffer/broker-admin.secret");
    CHECK(c->broker.client_id == "gafferd");
    CHECK(c->broker.advertised_uri.empty());
    CHECK(c->broker.ingest_socket == "/run/mosquitto/gaffer-ingest.sock");
    CHECK(c->broker.keep_alive == 30s);
    CHECK(c->broker.reconnect_min == 100ms);
    CHECK(c->broker.reconnect_max == 30s);
    CHECK(c->devices.max_devices == 100000);
    CHECK(c->devices.max_routes == 10000);
    CHECK(c->devices.max_message_bytes == 262144);
    CHECK(c->devices.outbox_limit == 100000);
}

TEST_CASE("every key is read") {
    auto c = config::parse(R"(
# comments and blank lines are fine
[daemon]
state_dir = "/data/gaffer"
log_level = "debug"
allow_root_tasks = true
default_user = "1500"
max_tasks = 10

[api]
socket = "/tmp/g.sock"
socket_mode = 0o600
socket_group = ""
max_request_bytes = "1M"
max_connections = 2

[scheduler]
queue_limit = 5
max_environments = 7
idle_timeout = "30s"
restart_backoff_initial = "250ms"
restart_backoff_max = "2m"
broken_after_failures = 9
broken_window = "2h"
stop_grace = "0ms"
async_result_retention = 50

[environments]
init_path = "/opt/gaffer/gaffer-init"
cgroup_parent = "edge/gaffer.slice"
log_dir = "/data/logs"
log_max_bytes = 65536
log_keep = 0
runtime_api_port = 8080
favor_dynamic_cgroups = false
init_pool_size = 0

[broker]
enabled = false
uri = "tcp://10.0.0.1:8883"
username = "core"
password_file = "/run/secrets/broker"
client_id = "gw-1"
advertised_uri = "tcp://gateway.local:1883"
ingest_socket = ""
keep_alive = "1m"
reconnect_min = "50ms"
reconnect_max = "5s"

[devices]
max_devices = 20
max_routes = 30
max_message_bytes = "1M"
outbox_limit = 40
)");
    REQUIRE_MESSAGE(c, (c ? "" : c.error().message));
    CHECK(c->daemon.state_dir == "/data/gaffer");
    CHECK(c->daemon.log_level == base::LogLevel::debug);
    CHECK(c->daemon.allow_root_tasks);
    CHECK(c->daemon.default_user == "1500");
    CHECK(c->daemon.max_tasks == 10);
    CHECK(c->api.socket == "/tmp/g.sock");
    CHECK(c->api.socket_mode == 0600);
    CHECK(c->api.socket_group.empty());
    CHECK(c->api.max_request_bytes == 1048576);
    CHECK(c->api.max_connections == 2);
    CHECK(c->scheduler.queue_limit == 5);
    CHECK(c->scheduler.max_environments == 7);
    CHECK(c->scheduler.idle_timeout == 30s);
    CHECK(c->scheduler.restart_backoff_initial == 250ms);
    CHECK(c->scheduler.restart_backoff_max == 2min);
    CHECK(c->scheduler.broken_after_failures == 9);
    CHECK(c->scheduler.broken_window == 2h);
    CHECK(c->scheduler.stop_grace == 0ms);
    CHECK(c->scheduler.async_result_retention == 50);
    CHECK(c->environments.init_path == "/opt/gaffer/gaffer-init");
    CHECK(c->environments.cgroup_parent == "edge/gaffer.slice");
    CHECK(c->environments.log_dir == "/data/logs");
    CHECK(c->environments.log_max_bytes == 65536);
    CHECK(c->environments.log_keep == 0);
    CHECK(c->environments.runtime_api_port == 8080);
    CHECK_FALSE(c->environments.favor_dynamic_cgroups);
    CHECK(c->environments.init_pool_size == 0);
    CHECK_FALSE(c->broker.enabled);
    CHECK(c->broker.uri == "tcp://10.0.0.1:8883");
    CHECK(c->broker.username == "core");
    CHECK(c->broker.password_file == "/run/secrets/broker");
    CHECK(c->broker.client_id == "gw-1");
    CHECK(c->broker.advertised_uri == "tcp://gateway.local:1883");
    CHECK(c->broker.ingest_socket.empty());
    CHECK(c->broker.keep_alive == 1min);
    CHECK(c->broker.reconnect_min == 50ms);
    CHECK(c->broker.reconnect_max == 5s);
    CHECK(c->devices.max_devices == 20);
    CHECK(c->devices.max_routes == 30);
    CHECK(c->devices.max_message_bytes == 1048576);
    CHECK(c->devices.outbox_limit == 40);
}

TEST_CASE("other accepted spellings") {
    auto mode = [](const char* text) { return config::parse(std::string("[api]\nsocket_mode = ") + text)->api.socket_mode; };
    CHECK(mode("\"0660\"") == 0660);
    CHECK(mode("\"640\"") == 0640);
    CHECK(mode("432") == 0660);
    CHECK(config::parse("scheduler.queue_limit = 3")->scheduler.queue_limit == 3);  // dotted key
    CHECK(config::parse("[api]\nmax_request_bytes = \"64K\"")->api.max_request_bytes == 65536);
    CHECK(config::parse("[daemon]\nlog_level = \"error\"")->daemon.log_level == base::LogLevel::error);
    CHECK(config::parse("[daemon]\ndefault_user = \"root\"\nallow_root_tasks = true")->daemon.default_user == "root");
    CHECK(config::parse("[daemon]\ndefault_user = \"00\"\nallow_root_tasks = true"));
    CHECK(config::parse("[daemon]\ndefault_user = \"1000\""));
}

TEST_CASE("bad values name the key and the reason") {
    const std::pair<std::string, std::string> cases[] = {
        {"[scheduler]\nqueue_limit = 0", "scheduler.queue_limit: must be between 1 and 100000 (got 0)"},
        {"[scheduler]\nqueue_limit = 100001", "scheduler.queue_limit: must be between 1 and 100000 (got 100001)"},
        {"[scheduler]\nqueue_limit = \"10\"", "scheduler.queue_limit: must be an integer, not a string"},
        {"[scheduler]\nqueue_limit = 99999999999999999999999", "scheduler.queue_limit: must be between 1 and 100000 (got 9223372036854775807)"},
        {"[scheduler]\nidle_timeout = 300", "scheduler.idle_timeout: must be a duration string like \"5m\", not an integer"},
        {"[scheduler]\nidle_timeout = \"5 minutes\"", "scheduler.idle_timeout: \"5 minutes\" is not a duration (use e.g. 500ms, 3s, 5m, 1h)"},
        {"[scheduler]\nidle_timeout = \"500ms\"", "scheduler.idle_timeout: must be between 1s and 24h (got 500ms)"},
        {"[scheduler]\nstop_grace = \"11m\"", "scheduler.stop_grace: must be between 0ms and 10m (got 11m)"},
        {"[scheduler]\nrestart_backoff_initial = \"10s\"\nrestart_backoff_max = \"5s\"",
         "scheduler.restart_backoff_max: must not be less than restart_backoff_initial (10s)"},
        {"[scheduler]\nbroken_after_failures = 1.5", "scheduler.broken_after_failures: must be an integer, not a float"},
        {"[daemon]\nstate_dir = \"var/lib/gaffer\"", "daemon.state_dir: \"var/lib/gaffer\" must be an absolute path"},
        {"[daemon]\nstate_dir = \"/var/../etc\"", "daemon.state_dir: \"/var/../etc\" must not contain \"..\" components"},
        {"[daemon]\nlog_level = \"verbose\"", "daemon.log_level: \"verbose\" is not one of debug, info, warning, error"},
        {"[daemon]\nallow_root_tasks = \"yes\"", "daemon.allow_root_tasks: must be true or false, not a string"},
        {"[daemon]\ndefault_user = \"Task User\"",
         "daemon.default_user: \"Task User\" is not a valid account name ([a-z_][a-z0-9_-]{0,31}) or numeric id"},
        {"[daemon]\ndefault_user = \"root\"", "daemon.default_user: \"root\" is root, which needs allow_root_tasks = true"},
        {"[daemon]\ndefault_user = \"0\"", "daemon.default_user: \"0\" is root, which needs allow_root_tasks = true"},
        {"[daemon]\nmax_tasks = [1]", "daemon.max_tasks: must be an integer, not an array"},
        {"[api]\nsocket_mode = 660", "api.socket_mode: 660 is not a permission mode (0 to 0777); write it as \"0660\" or 0o660"},
        {"[api]\nsocket_mode = \"rw-rw----\"", "api.socket_mode: \"rw-rw----\" is not an octal mode like \"0660\""},
        {"[api]\nsocket = \"/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\"",
         "api.socket: is 118 bytes; a socket path must be shorter than 108"},
        {"[api]\nmax_request_bytes = \"8X\"", "api.max_request_bytes: \"8X\" is not a size (use e.g. 512K, 8M, 1G)"},
        {"[api]\nmax_request_bytes = 100", "api.max_request_bytes: must be between 4096 and 67108864 bytes (got 100)"},
        {"[api]\nmax_connections = -1", "api.max_connections: must be between 1 and 4096 (got -1)"},
        {"[environments]\ncgroup_parent = \"/gaffer\"",
         "environments.cgroup_parent: \"/gaffer\" is not a cgroup path (a relative path such as \"gaffer\" or \"edge/gaffer\")"},
        {"[environments]\ncgroup_parent = \"a/../b\"",
         "environments.cgroup_parent: \"a/../b\" is not a cgroup path (a relative path such as \"gaffer\" or \"edge/gaffer\")"},
        {"[environments]\nruntime_api_port = 70000", "environments.runtime_api_port: must be between 1 and 65535 (got 70000)"},
        {"[environments]\nlog_keep = 101", "environments.log_keep: must be between 0 and 100 (got 101)"},
        {"[environments]\ninit_path = \"/a\\u0000b\"", "environments.init_path: must not contain a NUL byte"},
        {"[environments]\nlog_dir = 1979-05-27", "environments.log_dir: must be a string, not a date or time"},
        {"[broker]\nuri = \"mqtt://gw:1883\"",
         "broker.uri: \"mqtt://gw:1883\" is not a broker address (write it as tcp://host:port, e.g. tcp://127.0.0.1:1883)"},
        {"[broker]\nuri = \"tcp://gw\"",
         "broker.uri: \"tcp://gw\" is not a broker address (write it as tcp://host:port, e.g. tcp://127.0.0.1:1883)"},
        {"[broker]\nuri = \"tcp://gw:0\"",
         "broker.uri: \"tcp://gw:0\" is not a broker address (write it as tcp://host:port, e.g. tcp://127.0.0.1:1883)"},
        {"[broker]\nclient_id = \"gaffer d\"",
         "broker.client_id: \"gaffer d\" must be 1 to 64 printable ASCII characters without spaces"},
        {"[broker]\npassword_file = \"secret\"", "broker.password_file: \"secret\" must be an absolute path"},
        {"[broker]\ningest_socket = \"ingest.sock\"", "broker.ingest_socket: \"ingest.sock\" must be an absolute path"},
        {"[broker]\nreconnect_min = \"2s\"\nreconnect_max = \"1s\"",
         "broker.reconnect_max: must not be less than reconnect_min (2s)"},
        {"[devices]\nmax_message_bytes = \"16M\"",
         "devices.max_message_bytes: must be between 1024 and 8388608 bytes (got 16777216)"},
        {"[devices]\nmax_devices = 0", "devices.max_devices: must be between 1 and 1000000 (got 0)"},
    };
    for (const auto& [text, message] : cases) {
        CAPTURE(text);
        CHECK(error_of(text) == message);
    }
}

TEST_CASE("unknown keys and sections are refused by name") {
    CHECK(error_of("[scheduler]\nqueue_limt = 5") == "scheduler.queue_limt: unknown key (did you mean \"queue_limit\"?)");
    CHECK(error_of("[scheduler]\nwarp_drive = 5") == "scheduler.warp_drive: unknown key");
    CHECK(error_of("[schedular]\nqueue_limit = 5") ==
          "unknown section [schedular] (did you mean [scheduler]?); the sections are [daemon], [api], [scheduler], [environments], [broker], [devices]");
    CHECK(error_of("queue_limit = 5") == "queue_limit: must be inside [scheduler]");
    CHECK(error_of("colour = 5") ==
          "colour: unknown key (settings live in the sections [daemon], [api], [scheduler], [environments], [broker], [devices])");
    CHECK(error_of("[[daemon]]\nmax_tasks = 1") == "daemon: must be a table ([daemon]), not an array");
    // The first problem in file order is the one reported.
    CHECK(error_of("[api]\nmax_connections = 0\n[daemon]\nmax_tasks = 0") ==
          "api.max_connections: must be between 1 and 4096 (got 0)");
}

TEST_CASE("malformed TOML gives the line") {
    CHECK(error_of("[daemon]\nmax_tasks =\n") ==
          "line 2: missing value after key-value separator '=' (expected value, but got nothing)");
    CHECK(error_of("[daemon]\nmax_tasks = 1\nmax_tasks = 2\n").rfind("line 3: value (\"max_tasks\") already exists", 0) == 0);
    CHECK(error_of("\n\n[api]\nsocket_mode = 0660\n").rfind("line 4: bad integer: leading zero", 0) == 0);
    CHECK(error_of("[api\n").rfind("line 1: ", 0) == 0);
    CHECK(error_of("[scheduler]\nidle_timeout = 5m\n").rfind("line 2: ", 0) == 0);
    CHECK(error_of(std::string(1048577, '#')) == "config is 1048577 bytes; at most 1048576 are allowed");
}
