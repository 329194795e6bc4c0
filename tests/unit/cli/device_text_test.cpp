#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "coordinator/cli/cli.hpp"
#include "coordinator/cli/detail/device_text.hpp"

using namespace gaffer;
using namespace gaffer::cli::detail;
using nlohmann::json;

TEST_CASE("times are UTC ISO 8601; zero is a dash") {
    CHECK(format_time_ms(1714564800000) == "2024-05-01T12:00:00Z");
    CHECK(format_time_ms(1714564800999) == "2024-05-01T12:00:00Z");
    CHECK(format_time_ms(0) == "-");
    CHECK(format_time_ms(-5) == "-");
}

TEST_CASE("a device: presence, lists, the classic shadow, attributes") {
    const json device = {{"thing", "s"},          {"attributes", {{"room", "lab"}, {"n", "1"}}},
                         {"groups", {"a", "b"}},   {"connected", true},
                         {"presence_changed_at_ms", 1714564860000},
                         {"created_at_ms", 1714564800000},
                         {"credentials", "pending"}, {"shadows", {"", "cfg"}}};
    CHECK(format_device(device) ==
          "thing:       s\n"
          "connected:   yes (since 2024-05-01T12:01:00Z)\n"
          "credentials: pending\n"
          "created:     2024-05-01T12:00:00Z\n"
          "groups:      a, b\n"
          "shadows:     (classic), cfg\n"
          "attributes:\n"
          "  n = 1\n"
          "  room = lab\n");
    json gone = device;
    gone["connected"] = false;
    gone["attributes"] = json::object();
    gone["groups"] = json::array();
    const std::string text = format_device(gone);
    CHECK(text.find("connected:   no (since 2024-05-01T12:01:00Z)\n") != std::string::npos);
    CHECK(text.find("groups:      -\n") != std::string::npos);
    CHECK(text.find("attributes:  -\n") != std::string::npos);
    // An answer missing fields prints dashes, not an exception.
    CHECK(format_device(json::object()).find("thing:       -\n") == 0);
    CHECK(format_device_table(json("not a list")) == "THING  CONNECTED  CREDENTIALS  GROUPS  SHADOWS  CREATED\n");
}

TEST_CASE("credentials end with the line saying the password is not kept") {
    const std::string text = format_credentials({{"thing", "s"}, {"username", "s"}, {"client_id", "s"},
                                                 {"password", "p4ss"}, {"broker", "tcp://gw:1883"}});
    CHECK(text ==
          "thing:     s\n"
          "username:  s\n"
          "client id: s\n"
          "password:  p4ss\n"
          "broker:    tcp://gw:1883\n"
          "The password is not stored and cannot be shown again: save it now.\n");
}

TEST_CASE("the device document from command-line values") {
    CHECK(json::parse(device_document("s", {}, {}).value()) == json({{"thing", "s"}}));
    CHECK(json::parse(device_document("s", {"k=", "x=a=b"}, {"g"}).value()) ==
          json({{"thing", "s"}, {"attributes", {{"k", ""}, {"x", "a=b"}}}, {"groups", {"g"}}}));
    auto no_eq = device_document("s", {"k"}, {});
    REQUIRE_FALSE(no_eq);
    CHECK(no_eq.error().code == base::Errc::invalid);
    CHECK(no_eq.error().message == "--attribute \"k\" is not KEY=VALUE");
    CHECK_FALSE(device_document("s", {"=v"}, {}));
    CHECK(device_document("s", {"k=1", "k=2"}, {}).error().message == "--attribute \"k\" is given twice");
}

TEST_CASE("AWS rejections are told from API errors") {
    http::Response aws;
    aws.status = 409;
    aws.body = R"({"code": 409, "message": "Version conflict", "clientToken": "t"})";
    CHECK(shadow_rejection(aws) == "code 409: Version conflict");
    http::Response api_error;
    api_error.status = 503;
    api_error.body = R"({"error": "unavailable", "message": "devices are not enabled"})";
    CHECK_FALSE(shadow_rejection(api_error));
    http::Response ok;
    ok.body = R"({"code": 1, "message": "x"})";
    CHECK_FALSE(shadow_rejection(ok));
    http::Response junk;
    junk.status = 500;
    junk.body = "<html>";
    CHECK_FALSE(shadow_rejection(junk));
    CHECK(shadow_label(std::nullopt) == "the classic shadow");
    CHECK(shadow_label(std::string("cfg")) == "shadow \"cfg\"");
}

TEST_CASE("exit codes follow docs/cli.md's table") {
    const std::pair<int, int> cases[] = {{200, 0}, {201, 0}, {400, 4}, {403, 7}, {404, 3}, {405, 4}, {409, 8},
                                         {413, 4}, {429, 5}, {431, 4}, {500, 8}, {503, 8}, {504, 8}};
    for (const auto& [status, code] : cases) {
        CAPTURE(status);
        http::Response r;
        r.status = status;
        CHECK(cli::exit_code_for(r) == code);
    }
}
