// main() for the MQTT integration tests: they start a real mosquitto, which drops root to
// the `mosquitto` user. Without root (or without mosquitto) they skip with exit 77, which
// meson reports as SKIP, unless GAFFER_REQUIRE_INTEGRATION=1 makes a skip a failure.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "broker.hpp"

int main(int argc, char** argv) {
    const char* missing = nullptr;
    if (!gaffer::mqtt::testing::running_as_root()) missing = "root";
    else if (::access("/usr/sbin/mosquitto", X_OK) != 0) missing = "/usr/sbin/mosquitto";
    else if (::access("/usr/bin/mosquitto_pub", X_OK) != 0) missing = "/usr/bin/mosquitto_pub";
    if (missing) {
        const char* require = std::getenv("GAFFER_REQUIRE_INTEGRATION");
        if (require && std::strcmp(require, "1") == 0) {
            std::fprintf(stderr, "mqtt integration tests need %s, and "
                                 "GAFFER_REQUIRE_INTEGRATION=1 forbids skipping\n", missing);
            return 1;
        }
        std::fprintf(stderr, "skipped: mqtt integration tests need %s\n", missing);
        return 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
