// gaffer::daemon — the composition root of gafferd: wires the real adapters (libuv loop,
// SQLite store, cgroup environments, the local API) to the scheduler and runs the loop.
#pragma once

#include <string_view>

#include "coordinator/config/config.hpp"

namespace gaffer::daemon {

// Runs gafferd until SIGTERM/SIGINT, then shuts down gracefully: stops accepting, lets
// in-flight invocations finish (up to scheduler.stop_grace), stops every environment and
// removes its cgroup. Returns the process exit status (0 after a clean shutdown).
int run(const config::Config& config);

// One sd_notify datagram ("READY=1", "STOPPING=1", "STATUS=...", "WATCHDOG=1") to
// $NOTIFY_SOCKET; a no-op without systemd.
void notify_service_manager(std::string_view state);

}  // namespace gaffer::daemon
