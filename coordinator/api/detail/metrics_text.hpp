// The Prometheus text exposition format (version 0.0.4) for /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "coordinator/api/api.hpp"

namespace gaffer::api::detail {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string format_metrics(const MetricsSnapshot& metrics,
                           const std::map<int, std::uint64_t>& responses_by_code);

}  // namespace gaffer::api::detail
