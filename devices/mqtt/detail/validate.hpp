// Checks on what callers hand the link, before anything reaches Paho (which would throw, or
// send a packet the broker answers by disconnecting). Errors are Errc::invalid and name the
// field: "mqtt publish topic \"a/+\": ...".
#pragma once

#include <string_view>

#include "coordinator/base/base.hpp"

namespace gaffer::mqtt::detail {

inline constexpr std::size_t kMaxTopicBytes = 65535;               // MQTT's UTF-8 string
inline constexpr std::size_t kMaxPayloadBytes = std::size_t{256} << 20;  // MQTT's packet limit

// A topic name to publish on: 1..65535 bytes of UTF-8, no NUL, no wildcard (+ #).
base::Result<void> validate_topic_name(std::string_view topic);
// A topic filter: like a name, but `+` may fill a whole level and `#` the whole last level.
base::Result<void> validate_filter(std::string_view filter);
// `what` names the call in the message ("mqtt publish qos").
base::Result<void> validate_qos(int qos, std::string_view what);
base::Result<void> validate_payload(std::string_view payload);

}  // namespace gaffer::mqtt::detail
