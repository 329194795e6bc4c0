// Helpers shared by the routing sources: walking the levels of a topic or filter, and
// showing untrusted text in error messages.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gaffer::routing::detail {

// Reads the '/'-separated levels of a topic or filter, keeping empty ones: "a//b" gives
// "a", "", "b"; "/a" gives "", "a"; "a/" gives "a", "". Any text has at least one level.
class LevelReader {
public:
    explicit LevelReader(std::string_view text) noexcept : text_(text) {}
    bool done() const noexcept { return done_; }
    // Precondition: !done().
    std::string_view next() noexcept {
        const std::size_t slash = text_.find('/', pos_);
        if (slash == std::string_view::npos) {
            done_ = true;
            return text_.substr(pos_);
        }
        const std::string_view level = text_.substr(pos_, slash - pos_);
        pos_ = slash + 1;
        return level;
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
    bool done_ = false;
};

// `text` in double quotes for an error message: bytes outside printable ASCII and '"' or '\'
// escaped as \xNN, at most 96 bytes of it shown (then "...").
std::string shown(std::string_view text);

}  // namespace gaffer::routing::detail
