#include <doctest/doctest.h>

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "coordinator/config/config.hpp"
#include "coordinator/config/detail/keys.hpp"

using namespace gaffer;

namespace {

// A private directory removed with its files at the end of the test.
struct TempDir {
    std::string path;
    TempDir() {
        char name[] = "/tmp/gaffer-config-test-XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        path = name;
    }
    ~TempDir() {
        const std::string files[] = {path + "/gaffer.toml"};
        for (const auto& f : files) ::unlink(f.c_str());
        ::rmdir(path.c_str());
    }
};

std::string source_file(const std::string& relative) {
    std::ifstream in(std::string(GAFFER_SOURCE_ROOT) + "/" + relative);
    REQUIRE_MESSAGE(in, "cannot open " << relative);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST_CASE("load: a missing file is the defaults unless it must exist") {
    TempDir dir;
    auto optional = config::load(dir.path + "/gaffer.toml", false);
    REQUIRE(optional);
    CHECK(*optional == config::Config{});
    auto required = config::load(dir.path + "/gaffer.toml", true);
    REQUIRE_FALSE(required);
    CHECK(required.error().code == base::Errc::not_found);
}

TEST_CASE("load: reads the file and prefixes errors with its path") {
    TempDir dir;
    const std::string file = dir.path + "/gaffer.toml";
    REQUIRE(base::write_file(file, "[scheduler]\nqueue_limit = 12\n"));
    auto ok = config::load(file, true);
    REQUIRE(ok);
    CHECK(ok->scheduler.queue_limit == 12);
    REQUIRE(base::write_file(file, "[scheduler]\nqueue_limit = 0\n"));
    auto bad = config::load(file, false);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == file + ": scheduler.queue_limit: must be between 1 and 100000 (got 0)");
}

TEST_CASE("the packaged gaffer.toml, uncommented, is exactly the defaults") {
    std::string text = source_file("packaging/config/gaffer.toml");
    // Uncomment every "#key = value" line (a key is [a-z_]+); prose comments stay.
    std::string uncommented;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        const auto key_end = line.find_first_not_of("abcdefghijklmnopqrstuvwxyz_", 1);
        const bool setting = line.size() > 1 && line[0] == '#' && key_end > 1 &&
                             key_end != std::string::npos && line.compare(key_end, 3, " = ") == 0;
        uncommented += setting ? line.substr(1) : line;
        uncommented += '\n';
    }
    int keys = 0;
    for (const auto& section : config::detail::sections()) {
        for (const auto& key : config::detail::keys_of(section)) {
            CAPTURE(key);
            CHECK(uncommented.find("\n" + std::string(key) + " = ") != std::string::npos);
            ++keys;
        }
    }
    CHECK(keys == 41);
    auto parsed = config::parse(uncommented);
    REQUIRE_MESSAGE(parsed, (parsed ? "" : parsed.error().message));
    config::Config expected;
    expected.environments.init_path = parsed->environments.init_path;  // depends on the build prefix
    CHECK(*parsed == expected);
    CHECK(config::parse(text)->environments.init_path == config::default_init_path());
}

TEST_CASE("docs/configuration.md documents every key") {
    const std::string doc = source_file("docs/configuration.md");
    for (const auto& section : config::detail::sections()) {
        CHECK(doc.find("[" + std::string(section) + "]") != std::string::npos);
        for (const auto& key : config::detail::keys_of(section)) {
            CAPTURE(key);
            CHECK(doc.find("`" + std::string(key) + "`") != std::string::npos);
        }
    }
}
