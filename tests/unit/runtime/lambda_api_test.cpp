#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tasks/runtime/runtime.hpp"

using namespace gaffer::runtime;
using gaffer::http::Request;
using gaffer::http::find_header;

namespace {

Request req(std::string method, std::string path, std::string body = {}) {
    Request r;
    r.method = std::move(method);
    r.target = path;
    r.path = std::move(path);
    r.body = std::move(body);
    return r;
}

const std::string kNext = "/2018-06-01/runtime/invocation/next";

std::string header_value(const gaffer::http::Response& r, std::string_view name) {
    const std::string* v = find_header(r.headers, name);
    return v ? *v : "<absent>";
}

}  // namespace

TEST_CASE("the first GET /next parks and reports ready once") {
    LambdaApi api("arn:aws:lambda:gaffer-local:000000000000:function:hello");
    CHECK_FALSE(api.initialized());
    auto first = api.handle(req("GET", kNext));
    CHECK_FALSE(first.response);
    REQUIRE(first.frame);
    CHECK(first.frame->type == FrameType::ready);
    CHECK(api.initialized());
    auto again = api.handle(req("GET", kNext));
    CHECK_FALSE(again.response);
    CHECK_FALSE(again.frame);
}

TEST_CASE("an invocation goes out with the documented headers and its response comes back") {
    LambdaApi api("arn:aws:lambda:gaffer-local:000000000000:function:hello");
    api.handle(req("GET", kNext));
    auto next = api.start({"req-1", R"({"x":1})", 1700000000123, "Root=1-abc"});
    CHECK(next.status == 200);
    CHECK(next.body == R"({"x":1})");
    CHECK(header_value(next, "lambda-runtime-aws-request-id") == "req-1");
    CHECK(header_value(next, "Lambda-Runtime-Deadline-Ms") == "1700000000123");
    CHECK(header_value(next, "Lambda-Runtime-Invoked-Function-Arn") ==
          "arn:aws:lambda:gaffer-local:000000000000:function:hello");
    CHECK(header_value(next, "Lambda-Runtime-Trace-Id") == "Root=1-abc");
    CHECK(header_value(next, "Content-Type") == "application/json");
    REQUIRE(api.in_flight());
    CHECK(*api.in_flight() == "req-1");

    auto done = api.handle(req("POST", "/2018-06-01/runtime/invocation/req-1/response", "\"hi\""));
    REQUIRE(done.response);
    CHECK(done.response->status == 202);
    CHECK(done.response->body == R"({"status":"OK"})");
    REQUIRE(done.frame);
    CHECK(done.frame->type == FrameType::result);
    auto h = nlohmann::json::parse(done.frame->header);
    CHECK(h["id"] == "req-1");
    CHECK(h["status"] == "ok");
    CHECK(done.frame->payload == "\"hi\"");
    CHECK_FALSE(api.in_flight());
}

TEST_CASE("an unknown request id is a 400 with a Lambda error document") {
    LambdaApi api("arn");
    api.handle(req("GET", kNext));
    api.start({"req-1", "{}", 1, "t"});
    auto r = api.handle(req("POST", "/2018-06-01/runtime/invocation/other/response", "{}"));
    REQUIRE(r.response);
    CHECK(r.response->status == 400);
    auto doc = nlohmann::json::parse(r.response->body);
    CHECK(doc["errorType"] == "InvalidRequestID");
    CHECK(doc["errorMessage"].get<std::string>().find("other") != std::string::npos);
    CHECK_FALSE(r.frame);
    CHECK(api.in_flight());
}

TEST_CASE("an error post becomes a function_error result with the declared type") {
    LambdaApi api("arn");
    api.handle(req("GET", kNext));
    api.start({"id9", "{}", 1, "t"});
    Request e = req("POST", "/2018-06-01/runtime/invocation/id9/error",
                    R"({"errorMessage":"boom","errorType":"ValueError"})");
    SUBCASE("type from the header") {
        e.headers.emplace_back("Lambda-Runtime-Function-Error-Type", "Runtime.Custom");
        auto r = api.handle(e);
        CHECK(r.response->status == 202);
        auto h = nlohmann::json::parse(r.frame->header);
        CHECK(h["status"] == "function_error");
        CHECK(h["detail"] == "Runtime.Custom");
        CHECK(r.frame->payload == e.body);
    }
    SUBCASE("type from the document") {
        auto r = api.handle(e);
        CHECK(nlohmann::json::parse(r.frame->header)["detail"] == "ValueError");
    }
}

TEST_CASE("a response over 6 MB is refused with 413 and fails the invocation") {
    LambdaApi api("arn");
    api.handle(req("GET", kNext));
    api.start({"big", "{}", 1, "t"});
    auto r = api.handle(req("POST", "/2018-06-01/runtime/invocation/big/response",
                            std::string(kMaxResponseBytes + 1, 'a')));
    CHECK(r.response->status == 413);
    REQUIRE(r.frame);
    auto h = nlohmann::json::parse(r.frame->header);
    CHECK(h["status"] == "function_error");
    CHECK(h["detail"] == "Function.ResponseSizeTooLarge");
    CHECK_FALSE(api.in_flight());
    // Exactly the limit is fine.
    api.start({"edge", "{}", 1, "t"});
    auto ok = api.handle(req("POST", "/2018-06-01/runtime/invocation/edge/response",
                             std::string(kMaxResponseBytes, 'a')));
    CHECK(ok.response->status == 202);
}

TEST_CASE("init/error is accepted before the first /next and reported") {
    LambdaApi api("arn");
    Request e = req("POST", "/2018-06-01/runtime/init/error", R"({"errorMessage":"no","errorType":"InitFail"})");
    auto r = api.handle(e);
    CHECK(r.response->status == 202);
    REQUIRE(r.frame);
    CHECK(r.frame->type == FrameType::init_error);
    CHECK(nlohmann::json::parse(r.frame->header)["detail"] == "InitFail");
    CHECK(r.frame->payload == e.body);
}

TEST_CASE("unknown routes and methods are 404 JSON errors") {
    LambdaApi api("arn");
    for (auto [m, p] : {std::pair<std::string, std::string>{"GET", "/"},
                        {"POST", kNext},
                        {"GET", "/2018-06-01/runtime/invocation/x/response"},
                        {"POST", "/2018-06-01/runtime/invocation//response"},
                        {"POST", "/2018-06-01/runtime/invocation/x/result"},
                        {"GET", "/2020-01-01/runtime/invocation/next"}}) {
        auto r = api.handle(req(m, p));
        REQUIRE(r.response);
        CHECK(r.response->status == 404);
        CHECK(nlohmann::json::parse(r.response->body)["errorType"] == "InvalidRequest");
        CHECK_FALSE(r.frame);
    }
    CHECK_FALSE(api.initialized());
}
