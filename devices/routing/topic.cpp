// Topic names and filters: MQTT 3.1.1 / 5 section 4.7 (wildcards, '$' topics) and
// section 1.5.4 (UTF-8 strings).
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "devices/routing/detail/topic_text.hpp"
#include "devices/routing/routing.hpp"

namespace gaffer::routing {
namespace {

using detail::LevelReader;
using detail::shown;

constexpr std::size_t kMaxBytes = 65535;  // a UTF-8 string's length field is 16 bits

std::string code_point(std::uint32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
    return buf;
}

std::string at_byte(std::size_t offset) { return " at byte " + std::to_string(offset); }

// The reason `text` is not an MQTT UTF-8 string that mosquitto accepts, or nullopt.
std::optional<std::string> text_problem(std::string_view text) {
    if (text.empty()) return "must not be empty";
    if (text.size() > kMaxBytes)
        return "is " + std::to_string(text.size()) + " bytes (MQTT allows at most 65535)";
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        std::uint32_t cp = 0;
        if (lead < 0x80) {
            length = 1, cp = lead;
        } else if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2, cp = lead & 0x1Fu;
        } else if ((lead & 0xF0) == 0xE0) {
            length = 3, cp = lead & 0x0Fu;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4, cp = lead & 0x07u;
        } else {
            // 0x80..0xBF continue a character; 0xC0, 0xC1 and 0xF5.. can only start overlong
            // or out-of-range encodings.
            char byte[8];
            std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned>(lead));
            return "is not valid UTF-8 (" + std::string(byte) + " cannot start a character" +
                   at_byte(i) + ")";
        }
        if (i + length > text.size()) return "is not valid UTF-8 (truncated character" + at_byte(i) + ")";
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80)
                return "is not valid UTF-8 (truncated character" + at_byte(i) + ")";
            cp = (cp << 6) | (next & 0x3Fu);
        }
        static constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kSmallest[length]) return "is not valid UTF-8 (overlong encoding" + at_byte(i) + ")";
        if (cp > 0x10FFFF) return "is not valid UTF-8 (" + code_point(cp) + " is beyond U+10FFFF" + at_byte(i) + ")";
        if (cp >= 0xD800 && cp <= 0xDFFF)
            return "is not valid UTF-8 (UTF-16 surrogate " + code_point(cp) + at_byte(i) + ")";
        if (cp == 0) return "contains U+0000 (NUL)" + at_byte(i);
        if (cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F))
            return "contains the control character " + code_point(cp) + at_byte(i) +
                   " (the broker refuses it)";
        if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)
            return "contains the non-character " + code_point(cp) + at_byte(i) +
                   " (the broker refuses it)";
        i += length;
    }
    return std::nullopt;
}

std::optional<std::string> filter_problem(std::string_view filter) {
    if (auto problem = text_problem(filter)) return problem;
    for (std::size_t i = 0; i < filter.size(); ++i) {
        const char c = filter[i];
        if (c != '+' && c != '#') continue;
        const bool starts_level = i == 0 || filter[i - 1] == '/';
        const bool ends_level = i + 1 == filter.size() || filter[i + 1] == '/';
        if (!starts_level || !ends_level)
            return shown(filter) + " has '" + std::string(1, c) + "'" + at_byte(i) +
                   " that is not a whole level";
        if (c == '#' && i + 1 != filter.size())
            return shown(filter) + " has '#'" + at_byte(i) + " before the last level";
    }
    return std::nullopt;
}

bool is_wildcard(std::string_view level) { return level == "+" || level == "#"; }

bool starts_with_dollar(std::string_view level) { return !level.empty() && level.front() == '$'; }

}  // namespace

base::Result<void> validate_topic(std::string_view topic) {
    if (auto problem = text_problem(topic)) return base::fail(base::Errc::invalid, "topic: " + *problem);
    const std::size_t wildcard = topic.find_first_of("+#");
    if (wildcard != std::string_view::npos)
        return base::fail(base::Errc::invalid,
                          "topic: " + shown(topic) + " contains the wildcard '" +
                              std::string(1, topic[wildcard]) + "'" + at_byte(wildcard) +
                              " (a topic name cannot; a filter can)");
    return {};
}

base::Result<void> validate_filter(std::string_view filter) {
    if (auto problem = filter_problem(filter)) return base::fail(base::Errc::invalid, "filter: " + *problem);
    return {};
}

bool matches(std::string_view filter, std::string_view topic) {
    if (starts_with_dollar(topic) && !filter.empty() && (filter.front() == '+' || filter.front() == '#'))
        return false;
    LevelReader f(filter);
    LevelReader t(topic);
    while (!f.done()) {
        const std::string_view level = f.next();
        if (level == "#") return true;  // also matches the parent level: "a/#" matches "a"
        if (t.done()) return false;
        const std::string_view topic_level = t.next();
        if (level != "+" && level != topic_level) return false;
    }
    return t.done();
}

bool overlaps(std::string_view a, std::string_view b) {
    LevelReader x(a);
    LevelReader y(b);
    bool first = true;
    while (true) {
        if (x.done() || y.done()) {
            // The longer one can still match the shorter's topics if all it has left is '#'.
            if (x.done() && y.done()) return true;
            LevelReader& rest = x.done() ? y : x;
            return rest.next() == "#";
        }
        const std::string_view xl = x.next();
        const std::string_view yl = y.next();
        if (first) {
            // A wildcard first level never matches a '$' topic.
            if (is_wildcard(xl) && !is_wildcard(yl) && starts_with_dollar(yl)) return false;
            if (is_wildcard(yl) && !is_wildcard(xl) && starts_with_dollar(xl)) return false;
            first = false;
        }
        if (xl == "#" || yl == "#") return true;
        if (xl != "+" && yl != "+" && xl != yl) return false;
    }
}

bool covers(std::string_view general, std::string_view specific) {
    LevelReader g(general);
    LevelReader s(specific);
    bool first = true;
    while (true) {
        if (g.done()) return s.done();
        const std::string_view gl = g.next();
        if (gl == "#") return !(first && starts_with_dollar(specific));
        if (s.done()) return false;
        const std::string_view sl = s.next();
        if (gl == "+") {
            // "+/#" matches every topic "#" does (the root has no empty parent topic for '#'
            // to match); deeper, "a/#" matches "a" and "a/+/#" does not.
            if (sl == "#") return first && !g.done() && g.next() == "#";
            if (first && starts_with_dollar(sl)) return false;
        } else if (gl != sl) {
            return false;
        }
        first = false;
    }
}

namespace detail {

std::string shown(std::string_view text) {
    constexpr std::size_t kShown = 96;
    std::string out = "\"";
    for (std::size_t i = 0; i < text.size() && i < kShown; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02X", static_cast<unsigned>(c));
            out += escaped;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (text.size() > kShown) out += "...";
    out += '"';
    return out;
}

}  // namespace detail
}  // namespace gaffer::routing
