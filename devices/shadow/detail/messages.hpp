// The JSON texts the shadow service answers and publishes, built by concatenation from
// parts that are already serialised (the service dumps each value once). `token` is the
// clientToken already encoded as a JSON string, or empty when there is none. Private to
// devices/shadow.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "devices/shadow/detail/document.hpp"

namespace gaffer::shadow::detail {

// {"code", "message", "timestamp", "clientToken"?}
std::string error_message(int code, std::string_view message, std::int64_t now,
                          std::string_view token);

// /update/accepted: {"state": <request state>, "metadata", "version", "timestamp", ...}
std::string update_accepted(std::string_view state, std::string_view metadata,
                            std::int64_t version, std::int64_t now, std::string_view token);

// /update/delta: {"state": <delta>, "metadata": <its desired metadata>, "version", ...}
std::string delta_message(const Json& delta, const Json& metadata, std::int64_t version,
                          std::int64_t now, std::string_view token);

// /update/documents: {"previous"?, "current", "timestamp", "clientToken"?}; previous and
// current are {"state", "metadata", "version"} texts; previous is omitted when empty.
std::string documents_message(std::string_view previous, std::string_view current,
                              std::int64_t now, std::string_view token);

// /get/accepted: {"state": {"desired"?, "reported"?, "delta"?}, "metadata", "version", ...}
std::string get_accepted(Document& doc, Json delta, std::int64_t version, std::int64_t now,
                         std::string_view token);

// /delete/accepted: {"version", "timestamp", "clientToken"?}
std::string delete_accepted(std::int64_t version, std::int64_t now, std::string_view token);

}  // namespace gaffer::shadow::detail
