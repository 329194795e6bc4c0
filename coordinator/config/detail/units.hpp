// Writing durations back the way gaffer.toml spells them (parsing is base::parse_duration).
#pragma once

#include <chrono>
#include <string>

namespace gaffer::config::detail {

// The shortest exact spelling of `d`: 300000ms -> "5m", 1500ms -> "1500ms".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace gaffer::config::detail
