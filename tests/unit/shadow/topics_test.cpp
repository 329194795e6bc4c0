// Topic parsing and names, from "Device Shadow MQTT topics": the ShadowTopicPrefix is
// $aws/things/thingName/shadow (classic) or .../shadow/name/shadowName (named); requests
// are /get, /update, /delete; answers /accepted, /rejected, /update/delta, /documents.
#include <doctest/doctest.h>

#include <string>

#include "devices/shadow/shadow.hpp"

using gaffer::shadow::Key;
using gaffer::shadow::Operation;
using gaffer::shadow::parse_request_topic;
using gaffer::shadow::Request;
using gaffer::shadow::topic_prefix;

TEST_CASE("classic shadow request topics parse to their operation") {
    CHECK(parse_request_topic("$aws/things/Thing1/shadow/get") ==
          Request{Key{"Thing1", ""}, Operation::get});
    CHECK(parse_request_topic("$aws/things/Thing1/shadow/update") ==
          Request{Key{"Thing1", ""}, Operation::update});
    CHECK(parse_request_topic("$aws/things/Thing1/shadow/delete") ==
          Request{Key{"Thing1", ""}, Operation::remove});
}

TEST_CASE("named shadow request topics carry the shadow name") {
    CHECK(parse_request_topic("$aws/things/Thing1/shadow/name/config/get") ==
          Request{Key{"Thing1", "config"}, Operation::get});
    CHECK(parse_request_topic("$aws/things/Thing1/shadow/name/a:b_c-9/update") ==
          Request{Key{"Thing1", "a:b_c-9"}, Operation::update});
    CHECK(parse_request_topic("$aws/things/Thing1/shadow/name/config/delete") ==
          Request{Key{"Thing1", "config"}, Operation::remove});
    // A thing or a shadow may itself be called "name" or "shadow".
    CHECK(parse_request_topic("$aws/things/name/shadow/name/shadow/get") ==
          Request{Key{"name", "shadow"}, Operation::get});
}

TEST_CASE("answer topics are not requests") {
    for (const char* topic : {
             "$aws/things/Thing1/shadow/get/accepted", "$aws/things/Thing1/shadow/get/rejected",
             "$aws/things/Thing1/shadow/update/accepted", "$aws/things/Thing1/shadow/update/rejected",
             "$aws/things/Thing1/shadow/update/delta", "$aws/things/Thing1/shadow/update/documents",
             "$aws/things/Thing1/shadow/delete/accepted", "$aws/things/Thing1/shadow/delete/rejected",
             "$aws/things/Thing1/shadow/name/s/update/delta",
             "$aws/things/Thing1/shadow/name/s/update/documents",
             "$aws/things/Thing1/shadow/name/s/get/accepted"}) {
        CAPTURE(topic);
        CHECK_FALSE(parse_request_topic(topic).has_value());
    }
}

TEST_CASE("extra, missing or wrong levels are not requests") {
    for (const char* topic : {
             "", "$aws", "$aws/things/Thing1/shadow", "$aws/things/Thing1/shadow/",
             "$aws/things/Thing1/shadow/list", "$aws/things/Thing1/shadow/get/",
             "/$aws/things/Thing1/shadow/get", "$aws/things/Thing1/shadow/name/get",
             "$aws/things/Thing1/shadow/name/s", "$aws/things/Thing1/shadow/name/s/list",
             "$aws/things/Thing1/shadow/named/s/get", "$aws/things/Thing1/shadows/get",
             "$aws/thing/Thing1/shadow/get", "$AWS/things/Thing1/shadow/get",
             "aws/things/Thing1/shadow/get", "things/Thing1/shadow/get",
             "$aws/things/Thing1/shadow/name/s/x/get", "$aws/things/Thing1/shadow/name/s/get/x/y",
             "$aws/things/Thing1/shadow/GET"}) {
        CAPTURE(topic);
        CHECK_FALSE(parse_request_topic(topic).has_value());
    }
}

TEST_CASE("bad thing and shadow names are not requests") {
    const std::string thing128(128, 'a');
    const std::string shadow64(64, 's');
    CHECK(parse_request_topic("$aws/things/" + thing128 + "/shadow/get").has_value());
    CHECK_FALSE(parse_request_topic("$aws/things/" + thing128 + "a/shadow/get").has_value());
    CHECK(parse_request_topic("$aws/things/T/shadow/name/" + shadow64 + "/get").has_value());
    CHECK_FALSE(parse_request_topic("$aws/things/T/shadow/name/" + shadow64 + "s/get").has_value());
    for (const char* topic : {
             "$aws/things//shadow/get", "$aws/things/+/shadow/get", "$aws/things/#/shadow/get",
             "$aws/things/a.b/shadow/get", "$aws/things/a b/shadow/get",
             "$aws/things/caf\xc3\xa9/shadow/get", "$aws/things/T/shadow/name//get",
             "$aws/things/T/shadow/name/+/get", "$aws/things/T/shadow/name/a$b/get"}) {
        CAPTURE(topic);
        CHECK_FALSE(parse_request_topic(topic).has_value());
    }
}

TEST_CASE("topic prefixes are the documented ShadowTopicPrefix values") {
    CHECK(topic_prefix(Key{"Thing1", ""}) == "$aws/things/Thing1/shadow");
    CHECK(topic_prefix(Key{"Thing1", "config"}) == "$aws/things/Thing1/shadow/name/config");
}
