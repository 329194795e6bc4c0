// Private to gaffer::mqtt: the contract between load_paho_link and the module that holds the
// Paho implementation (gaffer-mqtt-paho.so, built from paho_module.cpp).
#pragma once

#include <memory>
#include <string>

#include "coordinator/base/base.hpp"
#include "coordinator/loop/loop.hpp"
#include "devices/mqtt/mqtt.hpp"
#include "gaffer_build_config.hpp"

namespace gaffer::mqtt::detail {

inline constexpr const char* kPahoModuleName = "gaffer-mqtt-paho.so";

// C names, so dlsym finds them; C++ types, since both sides are this build's C++.
using PahoAbi = const char* (*)();
inline constexpr const char* kPahoAbiSymbol = "gaffer_mqtt_paho_abi";
using PahoMake = void (*)(loop::Loop& loop, LinkOptions& options, base::LogLevel level,
                          base::Result<std::unique_ptr<Link>>& out);
inline constexpr const char* kPahoMakeSymbol = "gaffer_mqtt_paho_make";

// What both sides must agree on: the version and the sizes of what crosses between them.
inline std::string paho_module_abi() {
    return std::string(GAFFER_VERSION) + "/" + std::to_string(sizeof(LinkOptions)) + "/" +
           std::to_string(sizeof(Message)) + "/" + std::to_string(sizeof(base::Error)) + "/" +
           std::to_string(sizeof(loop::Loop));
}

}  // namespace gaffer::mqtt::detail
