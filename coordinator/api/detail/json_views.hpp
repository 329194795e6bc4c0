// JSON forms of the API's values, and JSON response helpers. Private to coordinator/api.
#pragma once

#include <nlohmann/json.hpp>

#include "coordinator/api/api.hpp"

namespace gaffer::api::detail {

nlohmann::json to_json(const TaskView& task, bool with_manifest);
nlohmann::json to_json(const InvocationView& invocation);
nlohmann::json to_json(const EnvironmentView& environment);
nlohmann::json to_json(const StatusView& status);
nlohmann::json to_json(const DeviceView& device);
nlohmann::json to_json(const Credentials& credentials);
nlohmann::json to_json(const RouteView& route);

// Never throws on invalid UTF-8 from a task's output: bad bytes become U+FFFD.
std::string dump(const nlohmann::json& value);
http::Response json_response(int status, const nlohmann::json& body);

}  // namespace gaffer::api::detail
