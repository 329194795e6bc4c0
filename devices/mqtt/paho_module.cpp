// The module gaffer-mqtt-paho.so: make_paho_link behind two C entry points (see
// detail/paho_module.hpp). It carries its own copy of gaffer's base and loop code, so it
// takes gafferd's log level on each call.
#include "devices/mqtt/detail/paho_module.hpp"

extern "C" {

const char* gaffer_mqtt_paho_abi() {
    static const std::string abi = gaffer::mqtt::detail::paho_module_abi();
    return abi.c_str();
}

void gaffer_mqtt_paho_make(gaffer::loop::Loop& loop, gaffer::mqtt::LinkOptions& options,
                           gaffer::base::LogLevel level,
                           gaffer::base::Result<std::unique_ptr<gaffer::mqtt::Link>>& out) {
    gaffer::base::set_log_level(level);
    out = gaffer::mqtt::make_paho_link(loop, std::move(options));
}

}  // extern "C"
