#include "coordinator/config/detail/units.hpp"

#include <limits>

namespace gaffer::config::detail {
namespace {

// Splits "123abc" into 123 and "abc"; nullopt without leading digits or on overflow.
std::optional<std::uint64_t> leading_number(std::string_view& text) {
    std::uint64_t value = 0;
    std::size_t i = 0;
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        const auto digit = static_cast<std::uint64_t>(text[i] - '0');
        if (value > (max - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    if (i == 0) return std::nullopt;
    text.remove_prefix(i);
    return value;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
    auto value = leading_number(text);
    if (!value) return std::nullopt;
    if (text.empty()) return value;
    if (text.size() != 1) return std::nullopt;
    unsigned shift = 0;
    switch (text[0]) {
    case 'K': case 'k': shift = 10; break;
    case 'M': case 'm': shift = 20; break;
    case 'G': case 'g': shift = 30; break;
    case 'T': case 't': shift = 40; break;
    default: return std::nullopt;
    }
    if (*value > (std::numeric_limits<std::uint64_t>::max() >> shift)) return std::nullopt;
    return *value << shift;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    const auto digits = text.find_first_not_of("0123456789");
    if (digits == 0 || digits == std::string_view::npos || digits > 9) return std::nullopt;
    auto value = leading_number(text);
    if (!value) return std::nullopt;
    const auto n = static_cast<std::int64_t>(*value);
    using namespace std::chrono;
    if (text == "ms") return milliseconds(n);
    if (text == "s") return duration_cast<milliseconds>(seconds(n));
    if (text == "m") return duration_cast<milliseconds>(minutes(n));
    if (text == "h") return duration_cast<milliseconds>(hours(n));
    return std::nullopt;
}

std::string format_duration(std::chrono::milliseconds d) {
    const auto ms = d.count();
    if (ms != 0 && ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
    if (ms != 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
    if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

}  // namespace gaffer::config::detail
