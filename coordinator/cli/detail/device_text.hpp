// Text forms of the device API's answers, for people, and the request bodies the device
// commands send. Pure (JSON in, text out) so that tests feed literals. Private to
// coordinator/cli.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/base/base.hpp"
#include "coordinator/http/http.hpp"

namespace gaffer::cli::detail {

// The line printed under every password: the daemon keeps no copy.
inline constexpr std::string_view kPasswordNotStored =
    "The password is not stored and cannot be shown again: save it now.";

// UTC, ISO 8601 to the second ("2024-05-01T12:00:00Z"); "-" for 0 or less.
std::string format_time_ms(std::int64_t ms);

// Aligned "key: value" lines of a credentials object, then kPasswordNotStored.
std::string format_credentials(const nlohmann::json& credentials);
// Aligned "key: value" lines of one device (presence, credentials state, groups,
// shadows, attributes).
std::string format_device(const nlohmann::json& device);
// A table: THING CONNECTED CREDENTIALS GROUPS SHADOWS CREATED.
std::string format_device_table(const nlohmann::json& devices);
// A table: ID SOURCE FILTER TARGET CREATED.
std::string format_route_table(const nlohmann::json& routes);
// "the classic shadow" or "shadow \"name\"".
std::string shadow_label(const std::optional<std::string>& name);

// The body of POST /v1/devices. Errors: invalid when an attribute is not KEY=VALUE with a
// non-empty key, or a key is given twice.
base::Result<std::string> device_document(const std::string& thing,
                                          const std::vector<std::string>& attributes,
                                          const std::vector<std::string>& groups);

// An AWS shadow error document ({"code": 404, "message": ...}) on a response of status
// 300 or more: "code 404: <message>". nullopt for an API error ({"error": ...}) or
// anything else.
std::optional<std::string> shadow_rejection(const http::Response& response);

}  // namespace gaffer::cli::detail
