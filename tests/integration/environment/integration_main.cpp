// main() for the environment integration tests: they need root (real cgroups). Without
// root they skip (exit 77, which meson reports as SKIP), unless
// GAFFER_REQUIRE_INTEGRATION=1 makes a skip a failure.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
    if (::geteuid() != 0) {
        const char* require = std::getenv("GAFFER_REQUIRE_INTEGRATION");
        if (require && std::strcmp(require, "1") == 0) {
            std::fprintf(stderr, "environment integration tests need root, and "
                                 "GAFFER_REQUIRE_INTEGRATION=1 forbids skipping\n");
            return 1;
        }
        std::fprintf(stderr, "skipped: environment integration tests need root\n");
        return 77;
    }
    doctest::Context context(argc, argv);
    return context.run();
}
