// Private to gaffer::runtime: a JSON value as a short excerpt for error messages.
#pragma once

#include <string>

namespace gaffer::runtime::detail {

// At most 40 characters; invalid UTF-8 in strings is replaced, never thrown on.
template <class Json>
std::string describe(const Json& v) {
    std::string text = v.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return text;
}

}  // namespace gaffer::runtime::detail
