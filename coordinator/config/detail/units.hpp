// Size and duration strings as written in gaffer.toml: "64M", "512K", "1G"; "500ms", "3s".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gaffer::config::detail {

// Decimal digits with an optional binary suffix K, M, G or T (either case): "64M" is
// 64 MiB. nullopt when malformed or when the value does not fit in 64 bits.
std::optional<std::uint64_t> parse_size(std::string_view text);

// Decimal digits followed by ms, s, m or h: "500ms", "3s", "2m", "1h". nullopt when
// malformed or absurdly large (more than 9 digits).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The shortest exact spelling of `d` in those units: 300000ms -> "5m", 1500ms -> "1500ms".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace gaffer::config::detail
