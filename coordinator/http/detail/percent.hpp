// Percent-decoding (RFC 3986) shared by the request parser and the query helpers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gaffer::http::detail {

// nullopt when a '%' is not followed by two hex digits, or the result holds a NUL byte.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace gaffer::http::detail
