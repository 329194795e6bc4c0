// gaffer::config — the daemon's settings: every key of gaffer.toml with its default,
// a pure parser (TOML text in, Config out) and a thin loader around it.
//
// The parser is strict: an unknown section or key, a value of the wrong type or out of
// range is an Errc::invalid error whose message names the key, e.g.
// `scheduler.queue_limit: must be between 1 and 100000 (got 0)`; malformed TOML gives
// `line 3: ...`. Pure and thread-agnostic; no logging.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "coordinator/base/base.hpp"

namespace gaffer::config {

// Durations are written "500ms", "3s", "5m", "1h" (one number, one unit).
using Millis = std::chrono::milliseconds;

// The path gaffer-init was installed to (GAFFER_INIT_PATH from the build).
std::string default_init_path();

struct Daemon {
    std::string state_dir = "/var/lib/gaffer";          // absolute; SQLite files live here
    base::LogLevel log_level = base::LogLevel::info;     // "debug" | "info" | "warning" | "error"
    bool allow_root_tasks = false;                       // may a manifest run as uid 0?
    std::string default_user = "gaffer-task";            // account for tasks that name none
    std::uint32_t max_tasks = 256;                       // 1..65536 deployed task definitions

    friend bool operator==(const Daemon&, const Daemon&) = default;
};

struct Api {
    std::string socket = "/run/gaffer/gaffer.sock";      // absolute, < 108 bytes (sun_path)
    std::uint32_t socket_mode = 0660;                    // 0..0777; integer 0o660 or string "0660"
    std::string socket_group = "gaffer";                 // empty: leave the daemon's group
    std::uint64_t max_request_bytes = 8u << 20;          // 4 KiB..64 MiB; integer or "8M"
    std::uint32_t max_connections = 64;                  // 1..4096

    friend bool operator==(const Api&, const Api&) = default;
};

struct Scheduler {
    std::uint32_t queue_limit = 1000;                    // 1..100000 queued invocations
    std::uint32_t max_environments = 32;                 // 1..4096 live environments
    Millis idle_timeout{std::chrono::minutes(5)};        // 1s..24h before a warm env is torn down
    Millis restart_backoff_initial{std::chrono::seconds(1)};  // 10ms..1h
    Millis restart_backoff_max{std::chrono::seconds(60)};     // >= initial, <= 24h
    std::uint32_t broken_after_failures = 3;             // 1..1000 failures within broken_window
    Millis broken_window{std::chrono::hours(1)};         // 1s..7d
    Millis stop_grace{std::chrono::seconds(5)};          // 0ms..10m between SIGTERM and SIGKILL
    std::uint32_t async_result_retention = 10000;        // 1..1000000 finished async results kept

    friend bool operator==(const Scheduler&, const Scheduler&) = default;
};

struct Environments {
    std::string init_path = default_init_path();         // absolute path of gaffer-init
    std::string cgroup_parent = "gaffer";                // relative cgroup path, no ".."
    std::string log_dir = "/var/log/gaffer/tasks";       // absolute; one log per task
    std::uint64_t log_max_bytes = 1u << 20;              // 4 KiB..1 GiB before rotation
    std::uint32_t log_keep = 3;                          // 0..100 rotated files kept
    std::uint16_t runtime_api_port = 9001;               // 1..65535, inside the environment
    bool favor_dynamic_cgroups = true;                   // remount cgroup2 with favordynmods
    std::uint32_t init_pool_size = 2;                    // 0..16 gaffer-init started ahead

    friend bool operator==(const Environments&, const Environments&) = default;
};

// The local MQTT broker devices connect to; gafferd is its privileged client. With
// `enabled` and no password file, gafferd runs without devices and says why.
struct Broker {
    bool enabled = true;
    std::string uri = "tcp://127.0.0.1:1883";            // tcp://host:port (loopback or LAN)
    std::string username = "gaffer-admin";               // the dynamic-security admin client
    std::string password_file = "/etc/gaffer/broker-admin.secret";  // absolute; first line
    std::string client_id = "gafferd";                   // 1..64 bytes
    std::string advertised_uri;                          // shown to devices; empty: uri
    // The broker's ingest plugin (gaffer-mosquitto-ingest.so); empty: do not use one.
    std::string ingest_socket = "/run/mosquitto/gaffer-ingest.sock";
    Millis keep_alive{std::chrono::seconds(30)};         // 5s..10m
    Millis reconnect_min{std::chrono::milliseconds(100)};  // 10ms..1m
    Millis reconnect_max{std::chrono::seconds(30)};        // >= reconnect_min, <= 1h

    friend bool operator==(const Broker&, const Broker&) = default;
};

struct Devices {
    std::uint32_t max_devices = 100000;                  // 1..1000000 registered devices
    std::uint32_t max_routes = 10000;                    // 1..100000 routes
    std::uint64_t max_message_bytes = 256u << 10;        // 1 KiB..8 MiB routed to a task
    std::uint32_t outbox_limit = 100000;                 // 1..10000000 messages awaiting the broker

    friend bool operator==(const Devices&, const Devices&) = default;
};

struct Config {
    Daemon daemon;
    Api api;
    Scheduler scheduler;
    Environments environments;
    Broker broker;
    Devices devices;

    friend bool operator==(const Config&, const Config&) = default;
};

// Parses gaffer.toml text; keys not present keep their defaults. Empty text is valid.
base::Result<Config> parse(std::string_view toml_text);

// Reads and parses the file at `path`. A missing file is Errc::not_found when
// `must_exist`, otherwise the defaults. Messages are prefixed with the path.
base::Result<Config> load(const std::string& path, bool must_exist);

}  // namespace gaffer::config
