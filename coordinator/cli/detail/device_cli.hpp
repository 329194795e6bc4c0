// The command-line shape of `gaffer device|shadow|route ...`: options bound to DeviceCli,
// each leaf setting the action run() performs after parsing. Private to coordinator/cli.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "coordinator/cli/detail/commands.hpp"

namespace CLI {
class App;
}

namespace gaffer::cli::detail {

// Parsed values; must outlive parsing and the action.
struct DeviceCli {
    DeviceAddArgs add;
    std::string thing;
    std::string after;
    std::size_t limit = 1000;
    ShadowArgs shadow;
    std::string source, filter, target;
    std::int64_t route_id = 0;
};

void add_device_commands(CLI::App& app, const Globals& g, DeviceCli& args, std::function<int()>& action);

}  // namespace gaffer::cli::detail
