// Size and duration strings as written in manifests: "64M", "512K", "1G"; "500ms", "3s".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace gaffer::manifest::detail {

// Decimal digits with an optional binary suffix K, M, G or T (either case): "64M" is
// 64 MiB. nullopt when malformed or when the value does not fit in 64 bits.
std::optional<std::uint64_t> parse_size(std::string_view text);

// Decimal digits followed by ms, s, m or h: "500ms", "3s", "2m", "1h". nullopt when
// malformed or absurdly large (more than 9 digits).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace gaffer::manifest::detail
