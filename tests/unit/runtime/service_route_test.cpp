// The HTTP side of the device services: which requests gaffer-init relays to gafferd and
// which it answers itself.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tasks/runtime/runtime.hpp"

using namespace gaffer::runtime;
using gaffer::http::Request;
using gaffer::http::find_header;
using Json = nlohmann::json;

namespace {

Request req(std::string method, std::string target, std::string body = {}) {
    Request r;
    r.method = std::move(method);
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? "" : target.substr(q + 1);
    r.body = std::move(body);
    return r;
}

ServiceRequest forwarded(const Request& r) {
    auto routed = route_service(r);
    REQUIRE_MESSAGE(routed.request, (routed.response ? routed.response->body : std::string("neither")));
    CHECK_FALSE(routed.response);
    CHECK(routed.request->id == 0);
    return *routed.request;
}

// The local answer: status and the parsed {"error","message"} document.
std::pair<int, Json> answered(const Request& r) {
    auto routed = route_service(r);
    REQUIRE_MESSAGE(routed.response, "expected a local answer for " << r.method << " " << r.target);
    CHECK_FALSE(routed.request);
    const std::string* type = find_header(routed.response->headers, "Content-Type");
    REQUIRE(type);
    CHECK(*type == "application/json");
    Json body = Json::parse(routed.response->body);
    CHECK(body.contains("error"));
    CHECK(body["message"].is_string());
    return {routed.response->status, body};
}

std::string message_of(const Request& r) { return answered(r).second["message"].get<std::string>(); }

}  // namespace

TEST_CASE("the Gaffer namespace is recognised, the Lambda one is not") {
    CHECK(is_service_path("/gaffer/v1/shadow/x"));
    CHECK(is_service_path("/gaffer/v2/anything"));
    CHECK(is_service_path("/gaffer"));
    CHECK_FALSE(is_service_path("/gafferx/v1"));
    CHECK_FALSE(is_service_path("/2018-06-01/runtime/invocation/next"));
    CHECK_FALSE(is_service_path("/"));
}

TEST_CASE("shadow methods map to the three operations, classic and named") {
    auto get = forwarded(req("GET", "/gaffer/v1/shadow/lamp-1"));
    CHECK(get.op == ServiceOp::shadow_get);
    CHECK(get.thing == "lamp-1");
    CHECK(get.shadow.empty());
    auto update = forwarded(req("POST", "/gaffer/v1/shadow/lamp-1?name=config", R"({"state":{}})"));
    CHECK(update.op == ServiceOp::shadow_update);
    CHECK(update.shadow == "config");
    auto del = forwarded(req("DELETE", "/gaffer/v1/shadow/a:b_c-d?name=n1"));
    CHECK(del.op == ServiceOp::shadow_delete);
    CHECK(del.thing == "a:b_c-d");
    CHECK(del.shadow == "n1");
}

TEST_CASE("publish takes a url-encoded topic and an optional qos") {
    auto p = forwarded(req("POST", "/gaffer/v1/publish?topic=things%2Flamp-1%2Fcmd", "on"));
    CHECK(p.op == ServiceOp::publish);
    CHECK(p.topic == "things/lamp-1/cmd");
    CHECK(p.qos == 0);
    auto q1 = forwarded(req("POST", "/gaffer/v1/publish?qos=1&topic=a/b"));
    CHECK(q1.topic == "a/b");
    CHECK(q1.qos == 1);
    CHECK(forwarded(req("POST", "/gaffer/v1/publish?topic=a&qos=0")).qos == 0);
    // Topic checks beyond presence, length and UTF-8 (wildcards, $ topics, routes) are gafferd's.
    CHECK(forwarded(req("POST", "/gaffer/v1/publish?topic=a%2F%23")).topic == "a/#");
    CHECK(forwarded(req("POST", "/gaffer/v1/publish?topic=caf%C3%A9")).topic == "caf\xc3\xa9");
}

TEST_CASE("unknown routes are a Gaffer 404, wrong methods a 405 with Allow") {
    auto [status, body] = answered(req("GET", "/gaffer/v1/shadows/x"));
    CHECK(status == 404);
    CHECK(body["error"] == "not_found");
    CHECK(body["message"].get<std::string>().find("/gaffer/v1/shadow/{thing}") != std::string::npos);
    CHECK(answered(req("GET", "/gaffer/v2/publish")).first == 404);
    CHECK(answered(req("POST", "/gaffer/v1/publish/extra?topic=a")).first == 404);
    CHECK(answered(req("GET", "/gaffer")).first == 404);

    auto put = route_service(req("PUT", "/gaffer/v1/shadow/x"));
    REQUIRE(put.response);
    CHECK(put.response->status == 405);
    CHECK(*find_header(put.response->headers, "Allow") == "GET, POST, DELETE");
    auto get_publish = route_service(req("GET", "/gaffer/v1/publish?topic=a"));
    REQUIRE(get_publish.response);
    CHECK(get_publish.response->status == 405);
    CHECK(*find_header(get_publish.response->headers, "Allow") == "POST");
}

TEST_CASE("bad names and queries are 400 with a message saying what is wrong") {
    CHECK(answered(req("GET", "/gaffer/v1/shadow/")).first == 400);
    CHECK(message_of(req("GET", "/gaffer/v1/shadow/")).find("names no thing") != std::string::npos);
    auto [status, body] = answered(req("GET", "/gaffer/v1/shadow/a b"));
    CHECK(status == 400);
    CHECK(body["error"] == "invalid");
    CHECK(body["message"].get<std::string>().find("thing name \"a b\"") != std::string::npos);
    CHECK(answered(req("GET", "/gaffer/v1/shadow/a/b")).first == 400);
    CHECK(answered(req("GET", "/gaffer/v1/shadow/" + std::string(129, 't'))).first == 400);
    CHECK(forwarded(req("GET", "/gaffer/v1/shadow/" + std::string(128, 't'))).thing.size() == 128);
    CHECK(message_of(req("GET", "/gaffer/v1/shadow/a?name=")).find("shadow name \"\"") != std::string::npos);
    CHECK(answered(req("GET", "/gaffer/v1/shadow/a?name=" + std::string(65, 's'))).first == 400);
    CHECK(message_of(req("GET", "/gaffer/v1/shadow/a?nmae=x")) ==
          "unknown query parameter \"nmae\" (did you mean \"name\"?)");
    CHECK(message_of(req("GET", "/gaffer/v1/shadow/a?name=x&name=y")).find("more than once") != std::string::npos);
    CHECK(message_of(req("GET", "/gaffer/v1/shadow/a?name=%zz")).find("percent-encoded") != std::string::npos);

    CHECK(message_of(req("POST", "/gaffer/v1/publish")).find("topic is missing") != std::string::npos);
    CHECK(message_of(req("POST", "/gaffer/v1/publish?qos=1")).find("topic is missing") != std::string::npos);
    CHECK(message_of(req("POST", "/gaffer/v1/publish?topic=")).find("1 to 65535 bytes") != std::string::npos);
    CHECK(answered(req("POST", "/gaffer/v1/publish?topic=" + std::string(65536, 't'))).first == 400);
    CHECK(forwarded(req("POST", "/gaffer/v1/publish?topic=" + std::string(65535, 't'))).topic.size() == 65535);
    CHECK(message_of(req("POST", "/gaffer/v1/publish?topic=%FF%FE")) == "the topic is not valid UTF-8");
    CHECK(message_of(req("POST", "/gaffer/v1/publish?topic=%C0%AF")) == "the topic is not valid UTF-8");  // overlong
    CHECK(message_of(req("POST", "/gaffer/v1/publish?topic=%E2%82")) == "the topic is not valid UTF-8");  // cut short
    CHECK(message_of(req("POST", "/gaffer/v1/publish?topic=a&qos=2")) == "qos must be 0 or 1, got \"2\"");
    CHECK(message_of(req("POST", "/gaffer/v1/publish?topic=a&qos=")) == "qos must be 0 or 1, got \"\"");
    CHECK(message_of(req("POST", "/gaffer/v1/publish?topic=a&retain=1")).find("unknown query parameter \"retain\"") !=
          std::string::npos);
}

TEST_CASE("a body over kMaxServiceBody is 413; one at the limit is relayed") {
    CHECK(kMaxServiceBody < kMaxFrame);
    auto [status, body] = answered(req("POST", "/gaffer/v1/publish?topic=a", std::string(kMaxServiceBody + 1, 'x')));
    CHECK(status == 413);
    CHECK(body["message"].get<std::string>().find(std::to_string(kMaxServiceBody)) != std::string::npos);
    CHECK(answered(req("POST", "/gaffer/v1/shadow/a", std::string(kMaxServiceBody + 1, 'x'))).first == 413);
    forwarded(req("POST", "/gaffer/v1/publish?topic=a", std::string(kMaxServiceBody, 'x')));
    // The largest request still fits one frame with the largest header.
    ServiceRequest largest{~0ull, ServiceOp::publish, "", "", std::string(kMaxTopicBytes, '\x01'), 1};
    std::string frame;
    encode({FrameType::service_request, to_json(largest), std::string(kMaxServiceBody, 'x')}, frame);
    CHECK(frame.size() <= kMaxFrame + 4);
}

TEST_CASE("answers keep the connection as the request asked") {
    auto r = req("GET", "/gaffer/v1/nope");
    r.keep_alive = false;
    auto routed = route_service(r);
    REQUIRE(routed.response);
    CHECK_FALSE(routed.response->keep_alive);
    auto ok = service_response(202, R"({"topic":"a"})", true);
    CHECK(ok.status == 202);
    CHECK(ok.keep_alive);
    CHECK(*find_header(ok.headers, "Content-Type") == "application/json");
    CHECK(Json::parse(service_error_document("busy", "full")) == Json{{"error", "busy"}, {"message", "full"}});
}
