// gafferd: the Gaffer coordinator daemon. A thin main: arguments in, daemon::run out.
#include <cstdio>
#include <cstring>
#include <string>

#include "coordinator/base/base.hpp"
#include "coordinator/config/config.hpp"
#include "coordinator/daemon/daemon.hpp"
#include "gaffer_build_config.hpp"

namespace {
constexpr const char* kUsage =
    "usage: gafferd [--config PATH] [--version]\n"
    "  --config PATH   the TOML configuration (default " GAFFER_SYSCONFDIR "/gaffer.toml;\n"
    "                  when the default file is missing the embedded defaults are used)\n";
}

int main(int argc, char** argv) {
    std::string config_path = std::string(GAFFER_SYSCONFDIR) + "/gaffer.toml";
    bool explicit_config = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
            explicit_config = true;
        } else if (std::strncmp(argv[i], "--config=", 9) == 0) {
            config_path = argv[i] + 9;
            explicit_config = true;
        } else if (std::strcmp(argv[i], "--version") == 0) {
            std::printf("gafferd %s\n", GAFFER_VERSION);
            return 0;
        } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
            std::fputs(kUsage, stdout);
            return 0;
        } else {
            std::fprintf(stderr, "gafferd: unknown argument '%s'\n%s", argv[i], kUsage);
            return 2;
        }
    }
    auto config = gaffer::config::load(config_path, explicit_config);
    if (!config) {
        std::fprintf(stderr, "gafferd: %s\n", config.error().message.c_str());
        return 2;
    }
    return gaffer::daemon::run(*config);
}
