// Human-written units, quoting and typo suggestions for the parsers' error messages.
#include <algorithm>
#include <limits>

#include "coordinator/base/base.hpp"

namespace gaffer::base {
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

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                               diagonal + (a[i - 1] == b[j - 1] ? 0u : 1u)});
            diagonal = above;
        }
    }
    return row[b.size()];
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


// Built by appending: GCC 12 at -O3 warns (-Wrestrict, a false positive) on "\"" + s + "\"".
std::string quoted(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    out += text;
    out += '"';
    return out;
}

std::optional<std::string_view> closest_match(std::string_view word,
                                              const std::vector<std::string_view>& candidates) {
    std::optional<std::string_view> best;
    std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
    for (std::string_view candidate : candidates) {
        // An abbreviation ("mem" for "memory") is as likely a slip as a typo.
        const bool abbreviation = word.size() >= 3 && candidate.substr(0, word.size()) == word;
        const std::size_t d = abbreviation ? 1 : edit_distance(word, candidate);
        if (d < best_distance) best = candidate, best_distance = d;
    }
    return best;
}

}  // namespace gaffer::base
