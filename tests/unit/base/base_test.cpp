#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include "coordinator/base/base.hpp"

using namespace gaffer::base;

TEST_CASE("fail carries the code and the message") {
    Result<int> r = fail(Errc::busy, "queue full");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::busy);
    CHECK(r.error().message == "queue full");
    CHECK(errc_name(Errc::busy) == "busy");
}

TEST_CASE("Fd closes on destruction and moves ownership") {
    int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(raw >= 0);
    {
        Fd a(raw);
        Fd b(std::move(a));
        CHECK_FALSE(a);
        CHECK(b.get() == raw);
    }
    CHECK(::fcntl(raw, F_GETFD) == -1);
}

TEST_CASE("read_file reports a missing file as not_found") {
    auto r = read_file("/nonexistent/gaffer");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::not_found);
    CHECK(r.error().message.find("/nonexistent/gaffer") != std::string::npos);
}

TEST_CASE("write_file then read_file round-trips") {
    char tmpl[] = "/tmp/gaffer-base-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    REQUIRE(write_file(tmpl, "hello"));
    CHECK(read_file(tmpl).value() == "hello");
    ::unlink(tmpl);
}

TEST_CASE("sizes and durations as people write them") {
    CHECK(parse_size("4096") == 4096u);
    CHECK(parse_size("64M") == 64u << 20);
    CHECK(parse_size("1g") == 1u << 30);
    CHECK_FALSE(parse_size("12Q"));
    CHECK_FALSE(parse_size("M"));
    CHECK_FALSE(parse_size("99999999999999999999"));
    CHECK(parse_duration("500ms") == std::chrono::milliseconds(500));
    CHECK(parse_duration("5m") == std::chrono::minutes(5));
    CHECK_FALSE(parse_duration("5"));
    CHECK_FALSE(parse_duration("3 s"));
}

TEST_CASE("closest_match suggests typos and abbreviations, not strangers") {
    std::vector<std::string_view> keys{"queue_limit", "max_environments", "idle_timeout"};
    CHECK(closest_match("queue_limt", keys) == std::optional<std::string_view>("queue_limit"));
    CHECK(closest_match("queue", keys) == std::optional<std::string_view>("queue_limit"));
    CHECK_FALSE(closest_match("colour", keys));
}
