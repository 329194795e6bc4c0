// Topic names and filters: validation (MQTT 3.1.1/5 section 1.5.4 and 4.7), matching per the
// spec's examples, overlaps and covers.
#include <doctest/doctest.h>

#include <string>

#include "devices/routing/routing.hpp"

using namespace gaffer;
using routing::covers;
using routing::matches;
using routing::overlaps;
using routing::validate_filter;
using routing::validate_topic;

namespace {

std::string error_of(const base::Result<void>& result) {
    REQUIRE_FALSE(result);
    CHECK(result.error().code == base::Errc::invalid);
    return result.error().message;
}

}  // namespace

TEST_CASE("topic names: accepted") {
    for (const char* topic : {"a", "sport/tennis/player1", "/", "//", "a//b", "/a", "a/", "$SYS/broker",
                              "things/dev-1/telemetry", " spaces are fine ", "caf\xC3\xA9",
                              "\xE2\x82\xAC/\xF0\x9F\x98\x80", "\xEF\xBF\xBD", "\xF4\x8F\xBF\xBD"})
        CHECK_MESSAGE(validate_topic(topic), topic);
    CHECK(validate_topic(std::string(65535, 'x')));
    CHECK(validate_topic(std::string(65533, 'x') + "\xC3\xA9"));  // 65535 bytes exactly
}

TEST_CASE("topic names: refused, with the reason and the place") {
    CHECK(error_of(validate_topic("")) == "topic: must not be empty");
    CHECK(error_of(validate_topic(std::string(65536, 'x'))) ==
          "topic: is 65536 bytes (MQTT allows at most 65535)");
    CHECK(error_of(validate_topic(std::string(65534, 'x') + "\xC3\xA9")).find("65536 bytes") !=
          std::string::npos);
    CHECK(error_of(validate_topic("a/+/b")) ==
          "topic: \"a/+/b\" contains the wildcard '+' at byte 2 (a topic name cannot; a filter can)");
    CHECK(error_of(validate_topic("a/#")).find("wildcard '#' at byte 2") != std::string::npos);
    CHECK(error_of(validate_topic("ab+")).find("'+' at byte 2") != std::string::npos);
    CHECK(error_of(validate_topic(std::string("a\0b", 3))) == "topic: contains U+0000 (NUL) at byte 1");
}

TEST_CASE("topic names: UTF-8 must be well formed") {
    struct Case {
        std::string text;
        const char* reason;
    };
    const Case cases[] = {
        {"a\x80", "0x80 cannot start a character at byte 1"},          // lone continuation
        {"\xC0\xAF", "0xC0 cannot start a character at byte 0"},       // overlong '/'
        {"\xC1\xBF", "0xC1 cannot start a character at byte 0"},
        {"\xE0\x80\xAF", "overlong encoding at byte 0"},                // 3-byte overlong
        {"\xF0\x80\x80\xAF", "overlong encoding at byte 0"},            // 4-byte overlong
        {"\xF4\x90\x80\x80", "U+110000 is beyond U+10FFFF at byte 0"},
        {"\xF5\x80\x80\x80", "0xF5 cannot start a character at byte 0"},
        {"\xFF", "0xFF cannot start a character at byte 0"},
        {"ab\xC3", "truncated character at byte 2"},                    // cut at the end
        {"\xE2\x82", "truncated character at byte 0"},
        {"\xE2\x28\xA1", "truncated character at byte 0"},              // bad continuation
        {"x\xED\xA0\x80", "UTF-16 surrogate U+D800 at byte 1"},
        {"\xED\xBF\xBF", "UTF-16 surrogate U+DFFF at byte 0"},
        {"\xC0\x80", "0xC0 cannot start a character at byte 0"},        // overlong NUL
    };
    for (const Case& c : cases) {
        const std::string message = error_of(validate_topic(c.text));
        CHECK_MESSAGE(message.starts_with("topic: is not valid UTF-8 ("), message);
        CHECK_MESSAGE(message.find(c.reason) != std::string::npos, message);
        CHECK(!validate_filter(c.text));
    }
}

TEST_CASE("topic names: code points the broker refuses") {
    CHECK(error_of(validate_topic("a\x01")) ==
          "topic: contains the control character U+0001 at byte 1 (the broker refuses it)");
    CHECK(error_of(validate_topic("\x1F")).find("U+001F") != std::string::npos);
    CHECK(error_of(validate_topic("a\tb")).find("U+0009") != std::string::npos);
    CHECK(error_of(validate_topic("\x7F")).find("U+007F") != std::string::npos);
    CHECK(error_of(validate_topic("\xC2\x80")).find("U+0080") != std::string::npos);
    CHECK(error_of(validate_topic("\xC2\x9F")).find("U+009F") != std::string::npos);
    CHECK(validate_topic("\xC2\xA0"));  // U+00A0, just past the C1 controls
    CHECK(error_of(validate_topic("\xEF\xB7\x90")).find("non-character U+FDD0") != std::string::npos);
    CHECK(error_of(validate_topic("\xEF\xB7\xAF")).find("U+FDEF") != std::string::npos);
    CHECK(validate_topic("\xEF\xB7\xB0"));  // U+FDF0
    CHECK(error_of(validate_topic("\xEF\xBF\xBE")).find("U+FFFE") != std::string::npos);
    CHECK(error_of(validate_topic("\xEF\xBF\xBF")).find("U+FFFF") != std::string::npos);
    CHECK(error_of(validate_topic("\xF0\x9F\xBF\xBF")).find("U+1FFFF") != std::string::npos);
    CHECK(error_of(validate_topic("\xF4\x8F\xBF\xBF")).find("U+10FFFF") != std::string::npos);
}

TEST_CASE("filters: accepted") {
    for (const char* filter : {"#", "+", "+/+", "/+", "+/", "sport/#", "sport/tennis/+", "sport/+/player1",
                               "+/tennis/#", "a//b", "/", "$SYS/#", "$aws/things/+/shadow/update/delta",
                               "a/+/+/#", "caf\xC3\xA9/+"})
        CHECK_MESSAGE(validate_filter(filter), filter);
    CHECK(validate_filter(std::string(65533, 'x') + "/#"));
}

TEST_CASE("filters: wildcards must be whole levels, '#' only last") {
    CHECK(error_of(validate_filter("sport/tennis#")) ==
          "filter: \"sport/tennis#\" has '#' at byte 12 that is not a whole level");
    CHECK(error_of(validate_filter("sport/tennis/#/ranking")) ==
          "filter: \"sport/tennis/#/ranking\" has '#' at byte 13 before the last level");
    CHECK(error_of(validate_filter("sport+")) == "filter: \"sport+\" has '+' at byte 5 that is not a whole level");
    CHECK(!validate_filter("+a"));
    CHECK(!validate_filter("a/+b/c"));
    CHECK(!validate_filter("#/"));
    CHECK(!validate_filter("##"));
    CHECK(!validate_filter("++"));
    CHECK(!validate_filter("a/#/#"));
    CHECK(error_of(validate_filter("")) == "filter: must not be empty");
    CHECK(error_of(validate_filter(std::string(65536, 'x'))) ==
          "filter: is 65536 bytes (MQTT allows at most 65535)");
    CHECK(error_of(validate_filter(std::string("a/\0", 3))) == "filter: contains U+0000 (NUL) at byte 2");
    CHECK(error_of(validate_filter("a/\x1b/+")).find("U+001B at byte 2") != std::string::npos);
}

TEST_CASE("matching: the MQTT specification's examples") {
    // 4.7.1.2: multi-level wildcard.
    CHECK(matches("sport/tennis/player1/#", "sport/tennis/player1"));
    CHECK(matches("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
    CHECK(matches("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
    CHECK(matches("sport/#", "sport"));
    CHECK(matches("#", "sport/tennis"));
    CHECK_FALSE(matches("sport/tennis/player1/#", "sport/tennis/player2"));
    // 4.7.1.3: single-level wildcard.
    CHECK(matches("sport/tennis/+", "sport/tennis/player1"));
    CHECK(matches("sport/tennis/+", "sport/tennis/player2"));
    CHECK_FALSE(matches("sport/tennis/+", "sport/tennis/player1/ranking"));
    CHECK_FALSE(matches("sport/+", "sport"));
    CHECK(matches("sport/+", "sport/"));
    CHECK(matches("+/+", "/finance"));
    CHECK(matches("/+", "/finance"));
    CHECK_FALSE(matches("+", "/finance"));
    // 4.7.2: topics beginning with '$'.
    CHECK_FALSE(matches("#", "$SYS/x"));
    CHECK_FALSE(matches("#", "$SYS"));
    CHECK_FALSE(matches("+/monitor/Clients", "$SYS/monitor/Clients"));
    CHECK(matches("$SYS/#", "$SYS/x"));
    CHECK(matches("$SYS/#", "$SYS"));
    CHECK(matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
    CHECK(matches("+/$SYS", "a/$SYS"));   // only the first level is special
    CHECK(matches("a/#", "a/$x/b"));
    // Case and empty levels count.
    CHECK_FALSE(matches("ACCOUNTS", "Accounts"));
    CHECK(matches("a//b", "a//b"));
    CHECK_FALSE(matches("a/b", "a//b"));
    CHECK(matches("a/+/b", "a//b"));
    CHECK(matches("a/#", "a/"));
    CHECK(matches("+", "a"));
    CHECK_FALSE(matches("a", "a/"));
    CHECK_FALSE(matches("a/b/c", "a/b"));
}

TEST_CASE("overlaps: some topic matches both filters") {
    CHECK(overlaps("a/b", "a/b"));
    CHECK(overlaps("a/+", "+/b"));       // a/b
    CHECK(overlaps("a/#", "a"));         // a
    CHECK(overlaps("a", "a/#"));
    CHECK(overlaps("#", "+/+/+"));
    CHECK(overlaps("+/+", "/finance"));
    CHECK(overlaps("$SYS/#", "$SYS/+"));
    CHECK(overlaps("#", "+"));
    CHECK_FALSE(overlaps("a/b", "a/c"));
    CHECK_FALSE(overlaps("a/+", "a"));
    CHECK_FALSE(overlaps("a/+", "a/b/c"));
    CHECK_FALSE(overlaps("+/+", "+"));
    CHECK_FALSE(overlaps("#", "$SYS/#"));    // '#' never matches a '$' topic
    CHECK_FALSE(overlaps("+/x", "$SYS/x"));
    CHECK_FALSE(overlaps("$SYS/x", "+/+"));
    CHECK(overlaps("a/+/c", "a/b/#"));
}

TEST_CASE("covers: every topic of the specific filter matches the general one") {
    CHECK(covers("a/b", "a/b"));
    CHECK(covers("#", "a/b/c"));
    CHECK(covers("#", "+/#"));
    CHECK(covers("a/#", "a"));
    CHECK(covers("a/#", "a/+/b"));
    CHECK(covers("a/+", "a/b"));
    CHECK(covers("+/+", "+/b"));
    CHECK_FALSE(covers("a/b", "a/+"));
    CHECK_FALSE(covers("a/+", "a/#"));
    CHECK_FALSE(covers("a/+", "a"));
    CHECK_FALSE(covers("a", "a/#"));
    CHECK_FALSE(covers("#", "$SYS/x"));
    CHECK_FALSE(covers("+/x", "$SYS/x"));
    CHECK(covers("$SYS/#", "$SYS/x"));
    CHECK_FALSE(covers("a/+", "+/b"));
    // At the root "+/#" and "#" match the same topics; deeper, "a/#" also matches "a".
    CHECK(covers("+/#", "#"));
    CHECK(covers("#", "+/#"));
    CHECK_FALSE(covers("a/+/#", "a/#"));
    CHECK(covers("a/#", "a/+/#"));
}
