// load_paho_link: finds, checks and loads gaffer-mqtt-paho.so once, then calls into it.
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <string>
#include <vector>

#include "devices/mqtt/detail/paho_module.hpp"

namespace gaffer::mqtt {
namespace {

// A build tree's module first, so that a build never loads an installed package's module.
std::vector<std::string> module_candidates() {
    std::vector<std::string> out;
    char exe[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        std::string dir(exe, static_cast<std::size_t>(n));
        dir = dir.substr(0, dir.rfind('/'));
        out.push_back(dir + "/../devices/mqtt/" + detail::kPahoModuleName);  // <build>/coordinator/gafferd
    }
    out.push_back(std::string(GAFFER_MODULE_DIR) + "/" + detail::kPahoModuleName);
    return out;
}

base::Result<detail::PahoMake> load_module() {
    std::string tried;
    for (const auto& path : module_candidates()) {
        if (::access(path.c_str(), R_OK) != 0) {
            tried += (tried.empty() ? "" : ", ") + path;
            continue;
        }
        // Never closed: the links it makes live as long as the daemon.
        void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) return base::fail(base::Errc::unavailable, std::string("cannot load ") + ::dlerror());
        auto abi = reinterpret_cast<detail::PahoAbi>(::dlsym(handle, detail::kPahoAbiSymbol));
        auto make = reinterpret_cast<detail::PahoMake>(::dlsym(handle, detail::kPahoMakeSymbol));
        if (!abi || !make) return base::fail(base::Errc::unavailable, path + " is not gaffer's MQTT module");
        if (abi() != detail::paho_module_abi())
            return base::fail(base::Errc::unavailable, path + " is from another gaffer build (" + abi() +
                                                           ", this one is " + detail::paho_module_abi() + ")");
        return make;
    }
    return base::fail(base::Errc::unavailable, std::string("no ") + detail::kPahoModuleName + " (tried " + tried + ")");
}

}  // namespace

base::Result<std::unique_ptr<Link>> load_paho_link(loop::Loop& loop, LinkOptions options) {
    static const base::Result<detail::PahoMake> make = load_module();
    if (!make) return tl::unexpected(make.error());
    base::Result<std::unique_ptr<Link>> out = base::fail(base::Errc::io, "mqtt: the module made no link");
    (*make)(loop, options, base::log_level(), out);
    return out;
}

}  // namespace gaffer::mqtt
