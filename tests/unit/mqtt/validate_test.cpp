#include <doctest/doctest.h>

#include <string>

#include "devices/mqtt/detail/validate.hpp"
#include "devices/mqtt/mqtt.hpp"

using namespace gaffer;
using namespace gaffer::mqtt::detail;
using namespace std::chrono_literals;

namespace {
// The message of an expected Errc::invalid, or a marker that makes the CHECK fail.
template <class Result>
std::string invalid(const Result& result) {
    if (result) return "(accepted)";
    if (result.error().code != base::Errc::invalid) return "(wrong code)";
    return result.error().message;
}
bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("publish topics: one topic, no wildcards") {
    CHECK(validate_topic_name("things/dev-1/temp"));
    CHECK(validate_topic_name("$aws/things/dev-1/shadow/update"));
    CHECK(validate_topic_name("/"));
    CHECK(validate_topic_name("caf\xC3\xA9"));
    CHECK(contains(invalid(validate_topic_name("")), "mqtt publish topic \"\" is empty"));
    CHECK(contains(invalid(validate_topic_name("a/+/b")), "contains a wildcard"));
    CHECK(contains(invalid(validate_topic_name("a/#")), "\"a/#\""));
    CHECK(contains(invalid(validate_topic_name(std::string("a\0b", 3))), "NUL"));
    CHECK(contains(invalid(validate_topic_name("bad\xC3")), "not valid UTF-8"));
    CHECK(contains(invalid(validate_topic_name("over\xC0\xAF")), "not valid UTF-8"));  // overlong
    CHECK(contains(invalid(validate_topic_name("sur\xED\xA0\x80")), "not valid UTF-8"));  // surrogate
    CHECK(validate_topic_name(std::string(65535, 'a')));
    CHECK(contains(invalid(validate_topic_name(std::string(65536, 'a'))), "65536 bytes"));
}

TEST_CASE("topic filters: + fills a level, # the last level") {
    for (const char* good : {"#", "+", "a/+/c", "a/#", "+/+", "a//b", "$share/g/a/#", "/+"})
        CHECK_MESSAGE(validate_filter(good), good);
    CHECK(contains(invalid(validate_filter("a/#/b")), "'#' must be a whole level and the last one"));
    CHECK(contains(invalid(validate_filter("a/b#")), "'#'"));
    CHECK(contains(invalid(validate_filter("a/b+")), "'+' must be a whole level"));
    CHECK(contains(invalid(validate_filter("+a")), "mqtt topic filter \"+a\""));
    CHECK(contains(invalid(validate_filter("")), "is empty"));
}

TEST_CASE("qos must be 0, 1 or 2 and the message names the call") {
    CHECK(validate_qos(0, "q"));
    CHECK(validate_qos(2, "q"));
    CHECK(invalid(validate_qos(3, "mqtt publish qos")) == "mqtt publish qos is 3; it must be 0, 1 or 2");
    CHECK(contains(invalid(validate_qos(-1, "mqtt subscribe qos")), "is -1"));
}

TEST_CASE("payloads up to MQTT's 256 MiB") {
    CHECK(validate_payload(""));
    CHECK(validate_payload(std::string(1 << 20, 'x')));
}

TEST_CASE("the default options are valid") {
    CHECK(mqtt::validate(mqtt::LinkOptions{}));
}

TEST_CASE("each bad option is refused by name") {
    auto field_of = [](auto change) {
        mqtt::LinkOptions options;
        change(options);
        return invalid(mqtt::validate(options));
    };
    CHECK(contains(field_of([](auto& o) { o.uri = "mqtt://gw:1883"; }), "mqtt option uri: \"mqtt://gw:1883\""));
    CHECK(contains(field_of([](auto& o) { o.uri = "tcp://"; }), "option uri"));
    CHECK(contains(field_of([](auto& o) { o.uri = "tcp://host"; }), "option uri"));
    CHECK(contains(field_of([](auto& o) { o.client_id = ""; }), "option client_id"));
    CHECK(contains(field_of([](auto& o) { o.username = "bad\xFF"; }), "option username"));
    CHECK(contains(field_of([](auto& o) { o.password = std::string(65536, 'p'); }), "option password"));
    CHECK(contains(field_of([](auto& o) { o.session_expiry = std::chrono::seconds(-1); }), "option session_expiry"));
    CHECK(contains(field_of([](auto& o) { o.session_expiry = std::chrono::seconds(1LL << 32); }), "session_expiry"));
    CHECK(contains(field_of([](auto& o) { o.keep_alive = 65536s; }), "option keep_alive"));
    CHECK(contains(field_of([](auto& o) { o.connect_timeout = 0s; }), "option connect_timeout"));
    CHECK(contains(field_of([](auto& o) { o.reconnect_min = 0ms; }), "option reconnect_min"));
    CHECK(contains(field_of([](auto& o) { o.reconnect_max = 50ms; }), "option reconnect_max"));
    CHECK(contains(field_of([](auto& o) { o.max_inflight = 0; }), "option max_inflight"));
    CHECK(contains(field_of([](auto& o) { o.max_inflight = 65536; }), "option max_inflight"));
    CHECK(contains(field_of([](auto& o) { o.max_subscriptions = 0; }), "option max_subscriptions"));
    CHECK(contains(field_of([](auto& o) { o.max_inbound_bytes = 0; }), "option max_inbound_bytes"));
    CHECK(contains(field_of([](auto& o) { o.stop_timeout = -1ms; }), "option stop_timeout"));
}
