#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "coordinator/http/http.hpp"

using namespace gaffer;
using http::Request;
using http::RequestParser;
using http::Response;
using http::ResponseParser;

namespace {

std::vector<Request> drain(RequestParser& p) {
    std::vector<Request> out;
    while (auto r = p.next()) out.push_back(std::move(*r));
    return out;
}

std::vector<Request> parse_all(std::string_view bytes, http::Limits limits = {}) {
    RequestParser p(limits);
    auto fed = p.feed(bytes);
    REQUIRE_MESSAGE(fed.has_value(), (fed ? "" : fed.error().message));
    return drain(p);
}

}  // namespace

TEST_CASE("a POST request fed one byte at a time comes out whole") {
    const std::string wire =
        "POST /v1/tasks/hello%20world/invoke?async=true&x=1 HTTP/1.1\r\n"
        "Host: localhost\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
        "{\"key\": \"v\"}\n";
    RequestParser p;
    std::vector<Request> got;
    for (const char c : wire) {
        REQUIRE(p.feed(std::string_view(&c, 1)));
        while (auto r = p.next()) got.push_back(std::move(*r));
        if (got.empty()) CHECK_FALSE(p.next().has_value());
    }
    REQUIRE(got.size() == 1);
    const Request& r = got[0];
    CHECK(r.method == "POST");
    CHECK(r.target == "/v1/tasks/hello%20world/invoke?async=true&x=1");
    CHECK(r.path == "/v1/tasks/hello world/invoke");
    CHECK(r.query == "async=true&x=1");
    CHECK(r.body == "{\"key\": \"v\"}\n");
    CHECK(r.keep_alive);
    REQUIRE(r.headers.size() == 3);
    CHECK(r.headers[1].first == "Content-Type");
    CHECK(r.headers[1].second == "application/json");
    REQUIRE(http::find_header(r.headers, "content-type") != nullptr);
    CHECK(*http::find_header(r.headers, "CONTENT-TYPE") == "application/json");
    CHECK(http::find_header(r.headers, "X-Missing") == nullptr);
    CHECK(p.error_status() == 0);
}

TEST_CASE("pipelined requests in one buffer come out in order") {
    auto reqs = parse_all(
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
        "DELETE /c?q HTTP/1.1\r\n\r\n");
    REQUIRE(reqs.size() == 3);
    CHECK(reqs[0].method == "GET");
    CHECK(reqs[0].path == "/a");
    CHECK(reqs[0].body.empty());
    CHECK(reqs[1].method == "POST");
    CHECK(reqs[1].body == "abc");
    CHECK(reqs[2].method == "DELETE");
    CHECK(reqs[2].path == "/c");
    CHECK(reqs[2].query == "q");
}

TEST_CASE("a request split across feeds in the middle of a header") {
    RequestParser p;
    REQUIRE(p.feed("GET /x HTTP/1.1\r\nX-Lo"));
    REQUIRE(p.feed("ng-Name: val"));
    REQUIRE(p.feed("ue1\r\nX-Other: 2\r\n"));
    CHECK_FALSE(p.next().has_value());
    REQUIRE(p.feed("\r\n"));
    auto r = p.next();
    REQUIRE(r);
    REQUIRE(r->headers.size() == 2);
    CHECK(r->headers[0].first == "X-Long-Name");
    CHECK(r->headers[0].second == "value1");
    CHECK(r->headers[1].second == "2");
}

TEST_CASE("keep-alive follows Connection and the HTTP version") {
    CHECK(parse_all("GET / HTTP/1.1\r\n\r\n")[0].keep_alive);
    CHECK_FALSE(parse_all("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")[0].keep_alive);
    CHECK_FALSE(parse_all("GET / HTTP/1.0\r\n\r\n")[0].keep_alive);
    CHECK(parse_all("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")[0].keep_alive);
}

TEST_CASE("requests after one that closes the connection are ignored") {
    RequestParser p;
    REQUIRE(p.feed("GET /1 HTTP/1.1\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"));
    REQUIRE(p.feed("GET /3 HTTP/1.1\r\n\r\n"));
    auto reqs = drain(p);
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].path == "/1");
}

TEST_CASE("HTTP/1.0 request with a body") {
    auto reqs = parse_all("POST /t HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi");
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].body == "hi");
    CHECK_FALSE(reqs[0].keep_alive);
}

TEST_CASE("chunked request bodies are decoded, trailers dropped") {
    const std::string wire =
        "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n"
        "GET /next HTTP/1.1\r\n\r\n";
    RequestParser p;
    for (const char c : wire) REQUIRE(p.feed(std::string_view(&c, 1)));
    auto reqs = drain(p);
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].body == "hello, world");
    CHECK(reqs[0].headers.size() == 1);
    CHECK(reqs[1].path == "/next");
}

TEST_CASE("a declared body over the limit fails with 413 before the body arrives") {
    RequestParser p(http::Limits{1024, 10});
    auto fed = p.feed("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n");
    REQUIRE_FALSE(fed);
    CHECK(fed.error().code == base::Errc::invalid);
    CHECK(fed.error().message.find("limit of 10 bytes") != std::string::npos);
    CHECK(p.error_status() == 413);
    CHECK_FALSE(p.next());
    CHECK_FALSE(p.feed("GET / HTTP/1.1\r\n\r\n"));  // stays failed
}

TEST_CASE("a body at the limit is accepted") {
    auto reqs = parse_all("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789",
                          http::Limits{1024, 10});
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].body.size() == 10);
}

TEST_CASE("a chunked body over the limit fails with 413") {
    RequestParser p(http::Limits{1024, 8});
    REQUIRE(p.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"));
    auto fed = p.feed("5\r\nworld\r\n0\r\n\r\n");
    REQUIRE_FALSE(fed);
    CHECK(p.error_status() == 413);
}

TEST_CASE("headers over the limit fail with 431") {
    RequestParser p(http::Limits{64, 1024});
    auto fed = p.feed("GET / HTTP/1.1\r\nX-Big: " + std::string(100, 'a') + "\r\n\r\n");
    REQUIRE_FALSE(fed);
    CHECK(p.error_status() == 431);
    CHECK(fed.error().message.find("header section") != std::string::npos);
}

TEST_CASE("many small headers are counted against the limit too") {
    std::string wire = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 40; ++i) wire += "A: b\r\n";
    wire += "\r\n";
    RequestParser small(http::Limits{200, 1024});
    CHECK_FALSE(small.feed(wire));
    CHECK(small.error_status() == 431);
    RequestParser big(http::Limits{400, 1024});
    CHECK(big.feed(wire));
}

TEST_CASE("malformed requests fail with 400 and a reason") {
    for (const std::string_view bad : {
             std::string_view("GARBAGE\r\n\r\n"),
             std::string_view("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
             std::string_view("GET / HTTP/9.9x\r\n\r\n"),
             std::string_view("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
             std::string_view("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
             std::string_view("GET /a%zz HTTP/1.1\r\n\r\n"),
             std::string_view("GET /a%00b HTTP/1.1\r\n\r\n"),
         }) {
        CAPTURE(bad);
        RequestParser p;
        auto fed = p.feed(bad);
        REQUIRE_FALSE(fed);
        CHECK(fed.error().code == base::Errc::invalid);
        CHECK_FALSE(fed.error().message.empty());
        CHECK(p.error_status() == 400);
    }
}

TEST_CASE("a protocol upgrade is refused") {
    RequestParser p;
    auto fed = p.feed("GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    REQUIRE_FALSE(fed);
    CHECK(p.error_status() == 400);
}

TEST_CASE("an empty feed is not end of input") {
    RequestParser p;
    REQUIRE(p.feed("GET / HT"));
    REQUIRE(p.feed(""));
    REQUIRE(p.feed("TP/1.1\r\n\r\n"));
    CHECK(p.next());
}

TEST_CASE("absolute-form targets are split into path and query") {
    auto reqs = parse_all("GET http://localhost/v1/status?x=y HTTP/1.1\r\n\r\n");
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].path == "/v1/status");
    CHECK(reqs[0].query == "x=y");
}

TEST_CASE("responses: content-length, chunked, no body, pipelined, byte by byte") {
    const std::string wire =
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Gaffer-Status: ok\r\n\r\nhello"
        "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        "HTTP/1.1 204 No Content\r\n\r\n";
    ResponseParser p;
    std::vector<Response> got;
    for (const char c : wire) {
        REQUIRE(p.feed(std::string_view(&c, 1)));
        while (auto r = p.next()) got.push_back(std::move(*r));
    }
    REQUIRE(got.size() == 3);
    CHECK(got[0].status == 200);
    CHECK(got[0].body == "hello");
    CHECK(*http::find_header(got[0].headers, "x-gaffer-status") == "ok");
    CHECK(got[0].keep_alive);
    CHECK(got[1].status == 404);
    CHECK(got[1].body == "abc");
    CHECK(got[2].status == 204);
    CHECK(got[2].body.empty());
}

TEST_CASE("a response body delimited by end of connection needs finish()") {
    ResponseParser p;
    REQUIRE(p.feed("HTTP/1.1 200 OK\r\n\r\npartial "));
    REQUIRE(p.feed("body"));
    CHECK_FALSE(p.next());
    REQUIRE(p.finish());
    auto r = p.next();
    REQUIRE(r);
    CHECK(r->body == "partial body");
    CHECK_FALSE(r->keep_alive);
}

TEST_CASE("a response cut short fails at finish()") {
    ResponseParser p;
    REQUIRE(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
    auto done = p.finish();
    REQUIRE_FALSE(done);
    CHECK(done.error().code == base::Errc::invalid);
    CHECK_FALSE(p.next());
}

TEST_CASE("finish() between responses is clean") {
    ResponseParser p;
    REQUIRE(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    REQUIRE(p.finish());
    CHECK(p.next());
}

TEST_CASE("a response body over the limit fails") {
    ResponseParser p(http::Limits{1024, 4});
    CHECK_FALSE(p.feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"));
}

TEST_CASE("a malformed response fails") {
    ResponseParser p;
    CHECK_FALSE(p.feed("HTTP/1.1 abc OK\r\n\r\n"));
}
