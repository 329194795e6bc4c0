// The service_request / service_reply frame headers: encoding and strict parsing.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tasks/runtime/runtime.hpp"

using namespace gaffer::runtime;
using gaffer::base::Errc;
using Json = nlohmann::json;

namespace {

std::string request_error_of(std::string_view header) {
    auto r = parse_service_request(header);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid);
    return r.error().message;
}

std::string reply_error_of(std::string_view header) {
    auto r = parse_service_reply(header);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::invalid);
    return r.error().message;
}

}  // namespace

TEST_CASE("shadow requests encode to the documented header and parse back") {
    ServiceRequest get{7, ServiceOp::shadow_get, "lamp-1", "", "", 0};
    CHECK(Json::parse(to_json(get)) == Json{{"id", 7}, {"op", "shadow_get"}, {"thing", "lamp-1"}});
    ServiceRequest update{8, ServiceOp::shadow_update, "lamp:1", "config_v2", "", 0};
    CHECK(Json::parse(to_json(update)) ==
          Json{{"id", 8}, {"op", "shadow_update"}, {"thing", "lamp:1"}, {"shadow", "config_v2"}});
    for (const auto& original : {get, update, ServiceRequest{9, ServiceOp::shadow_delete, "x", "n", "", 0}}) {
        auto parsed = parse_service_request(to_json(original));
        REQUIRE_MESSAGE(parsed, parsed.error().message);
        CHECK(parsed->id == original.id);
        CHECK(parsed->op == original.op);
        CHECK(parsed->thing == original.thing);
        CHECK(parsed->shadow == original.shadow);
        CHECK(parsed->topic.empty());
    }
}

TEST_CASE("publish requests carry topic and qos, and qos defaults to 0") {
    ServiceRequest pub{1, ServiceOp::publish, "", "", "things/lamp-1/state", 1};
    CHECK(Json::parse(to_json(pub)) ==
          Json{{"id", 1}, {"op", "publish"}, {"topic", "things/lamp-1/state"}, {"qos", 1}});
    auto parsed = parse_service_request(to_json(pub));
    REQUIRE(parsed);
    CHECK(parsed->op == ServiceOp::publish);
    CHECK(parsed->topic == "things/lamp-1/state");
    CHECK(parsed->qos == 1);
    auto no_qos = parse_service_request(R"({"id":2,"op":"publish","topic":"a/b"})");
    REQUIRE(no_qos);
    CHECK(no_qos->qos == 0);
    // Non-ASCII topics survive the JSON header unchanged.
    auto utf8 = parse_service_request(to_json(ServiceRequest{3, ServiceOp::publish, "", "", "caf\xc3\xa9/t", 0}));
    REQUIRE(utf8);
    CHECK(utf8->topic == "caf\xc3\xa9/t");
}

TEST_CASE("op names are the documented ones") {
    CHECK(service_op_name(ServiceOp::shadow_get) == "shadow_get");
    CHECK(service_op_name(ServiceOp::shadow_update) == "shadow_update");
    CHECK(service_op_name(ServiceOp::shadow_delete) == "shadow_delete");
    CHECK(service_op_name(ServiceOp::publish) == "publish");
}

TEST_CASE("malformed service_request headers are rejected with the field named") {
    CHECK(request_error_of("not json").find("not valid JSON") != std::string::npos);
    CHECK(request_error_of("[1]").find("JSON object") != std::string::npos);
    CHECK(request_error_of(R"({"op":"shadow_get","thing":"a"})") == "service_request: id: is required");
    CHECK(request_error_of(R"({"id":-1,"op":"shadow_get","thing":"a"})").find("id: expected an unsigned integer") !=
          std::string::npos);
    CHECK(request_error_of(R"({"id":"1","op":"shadow_get","thing":"a"})").find("id:") != std::string::npos);
    CHECK(request_error_of(R"({"id":1})") == "service_request: op: is required");
    CHECK(request_error_of(R"({"id":1,"op":"shadow_list","thing":"a"})").find("\"shadow_list\" is not a known operation") !=
          std::string::npos);
    CHECK(request_error_of(R"({"id":1,"op":"shadow_get","thing":"a","extra":1})") == "service_request: extra: unknown field");
    CHECK(request_error_of(R"({"id":1,"op":"shadow_get"})") == "service_request: thing: is required");
    CHECK(request_error_of(R"({"id":1,"op":"shadow_get","thing":"a b"})").find("thing:") != std::string::npos);
    CHECK(request_error_of(R"({"id":1,"op":"shadow_get","thing":"a","shadow":""})").find("shadow:") != std::string::npos);
    CHECK(request_error_of(R"({"id":1,"op":"shadow_get","thing":"a","topic":"t"})") ==
          "service_request: topic: does not belong to a shadow operation");
    CHECK(request_error_of(R"({"id":1,"op":"publish","topic":"t","thing":"a"})") ==
          "service_request: thing: does not belong to a publish");
    CHECK(request_error_of(R"({"id":1,"op":"publish"})") == "service_request: topic: is required");
    CHECK(request_error_of(R"({"id":1,"op":"publish","topic":""})") == "service_request: topic: must be 1 to 65535 bytes");
    CHECK(request_error_of(R"({"id":1,"op":"publish","topic":"t","qos":2})") == "service_request: qos: expected 0 or 1, got 2");
    CHECK(request_error_of(R"({"id":1,"op":"publish","topic":"t","qos":"1"})").find("qos:") != std::string::npos);
    CHECK(request_error_of(R"({"id":1,"op":"publish","topic":5})") == "service_request: topic: expected a string, got 5");
}

TEST_CASE("thing and shadow names follow the shared convention") {
    CHECK(valid_thing_name("a"));
    CHECK(valid_thing_name("Lamp_1:kitchen-2"));
    CHECK(valid_thing_name(std::string(128, 'x')));
    CHECK_FALSE(valid_thing_name(std::string(129, 'x')));
    CHECK_FALSE(valid_thing_name(""));
    for (auto bad : {"a b", "a/b", "a+b", "a#", "a.b", "$aws", "caf\xc3\xa9"}) CHECK_FALSE(valid_thing_name(bad));
    CHECK(valid_shadow_name(std::string(64, 'x')));
    CHECK_FALSE(valid_shadow_name(std::string(65, 'x')));
    CHECK_FALSE(valid_shadow_name(""));
}

TEST_CASE("service replies round trip and are parsed strictly") {
    auto r = parse_service_reply(to_json(ServiceReply{42, 403}));
    REQUIRE(r);
    CHECK(r->id == 42);
    CHECK(r->status == 403);
    CHECK(Json::parse(to_json(ServiceReply{1, 200})) == Json{{"id", 1}, {"status", 200}});
    CHECK(reply_error_of(R"({"status":200})") == "service_reply: id: is required");
    CHECK(reply_error_of(R"({"id":1})") == "service_reply: status: is required");
    CHECK(reply_error_of(R"({"id":1,"status":199})").find("200 to 599") != std::string::npos);
    CHECK(reply_error_of(R"({"id":1,"status":600})").find("200 to 599") != std::string::npos);
    CHECK(reply_error_of(R"({"id":1,"status":"200"})").find("status:") != std::string::npos);
    CHECK(reply_error_of(R"({"id":1,"status":200,"body":""})") == "service_reply: body: unknown field");
    CHECK(reply_error_of("").find("not valid JSON") != std::string::npos);
}

TEST_CASE("the new frame types travel through the codec") {
    std::string stream;
    encode({FrameType::service_request, to_json(ServiceRequest{5, ServiceOp::publish, "", "", "a/b", 0}), "payload"},
           stream);
    encode({FrameType::service_reply, to_json(ServiceReply{5, 202}), R"({"topic":"a/b"})"}, stream);
    Decoder d;
    REQUIRE(d.feed(stream));
    auto request = d.next();
    REQUIRE(request);
    CHECK(request->type == FrameType::service_request);
    CHECK(request->payload == "payload");
    auto reply = d.next();
    REQUIRE(reply);
    CHECK(reply->type == FrameType::service_reply);
    CHECK(parse_service_reply(reply->header)->status == 202);
    CHECK(static_cast<int>(FrameType::service_reply) == 4);
    CHECK(static_cast<int>(FrameType::service_request) == 15);
}
