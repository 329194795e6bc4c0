#include "coordinator/config/config.hpp"
#include "gaffer_build_config.hpp"

namespace gaffer::config {

std::string default_init_path() { return GAFFER_INIT_PATH; }

base::Result<Config> load(const std::string& path, bool must_exist) {
    auto text = base::read_file(path);
    if (!text) {
        if (text.error().code == base::Errc::not_found && !must_exist) return Config{};
        return tl::unexpected(text.error());
    }
    auto config = parse(*text);
    if (!config) return base::fail(config.error().code, path + ": " + config.error().message);
    return config;
}

}  // namespace gaffer::config
