// The Prometheus text exposition format (version 0.0.4) for /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "coordinator/api/api.hpp"

namespace gaffer::api::detail {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// `devices`: the DeviceBackend's samples (naming scheme: DeviceMetrics in api.hpp), or
// nullptr when devices are not enabled (then no gaffer_mqtt_/gaffer_devices families).
std::string format_metrics(const MetricsSnapshot& metrics,
                           const std::map<int, std::uint64_t>& responses_by_code,
                           const DeviceMetrics* devices = nullptr);

}  // namespace gaffer::api::detail
