// The commands behind `gaffer`, one function each. Each prints its result and returns the
// process exit code. Private to coordinator/cli.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gaffer::cli::detail {

struct Globals {
    std::string socket = "/run/gaffer/gaffer.sock";
    bool json = false;  // print the API's JSON as it came
};

int task_add(const Globals& g, const std::string& file);
int task_list(const Globals& g);
int task_show(const Globals& g, const std::string& name);
int task_remove(const Globals& g, const std::string& name);
struct InvokeArgs {
    std::string name;
    std::optional<std::string> payload;
    std::optional<std::string> payload_file;  // "-" is stdin
    bool async = false;
};
int task_invoke(const Globals& g, const InvokeArgs& args);
int task_logs(const Globals& g, const std::string& name, unsigned tail);
int invocation_show(const Globals& g, const std::string& id);
int env_list(const Globals& g);
int status(const Globals& g);

// Devices, shadows and message routes (device_commands.cpp, shadow_commands.cpp,
// route_commands.cpp).
struct DeviceAddArgs {
    std::string thing;
    std::vector<std::string> attributes;  // "key=value"
    std::vector<std::string> groups;
};
int device_add(const Globals& g, const DeviceAddArgs& args);
int device_list(const Globals& g, const std::string& after, std::size_t limit);
int device_show(const Globals& g, const std::string& thing);
int device_remove(const Globals& g, const std::string& thing);
int device_credentials(const Globals& g, const std::string& thing);

struct ShadowArgs {
    std::string thing;
    std::optional<std::string> name;      // absent: the classic shadow
    std::optional<std::string> document;  // update: inline JSON, or "-" for stdin
    std::optional<std::string> file;      // update: read the request from a file
};
int shadow_get(const Globals& g, const ShadowArgs& args);
int shadow_update(const Globals& g, const ShadowArgs& args);
int shadow_delete(const Globals& g, const ShadowArgs& args);

int route_add(const Globals& g, const std::string& source, const std::string& filter,
              const std::string& target);
int route_list(const Globals& g);
int route_remove(const Globals& g, std::int64_t id);

}  // namespace gaffer::cli::detail
