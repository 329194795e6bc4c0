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
