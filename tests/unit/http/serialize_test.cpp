#include <doctest/doctest.h>

#include <string>

#include "coordinator/http/http.hpp"

using namespace gaffer;

namespace {

http::Response reparse(const std::string& wire) {
    http::ResponseParser p;
    auto fed = p.feed(wire);
    REQUIRE_MESSAGE(fed.has_value(), (fed ? "" : fed.error().message));
    auto r = p.next();
    REQUIRE(r.has_value());
    CHECK_FALSE(p.next().has_value());
    return std::move(*r);
}

http::Request reparse_request(const std::string& wire) {
    http::RequestParser p;
    auto fed = p.feed(wire);
    REQUIRE_MESSAGE(fed.has_value(), (fed ? "" : fed.error().message));
    auto r = p.next();
    REQUIRE(r.has_value());
    CHECK_FALSE(p.next().has_value());
    return std::move(*r);
}

}  // namespace

TEST_CASE("a response serializes with status line, headers and Content-Length") {
    http::Response r;
    r.status = 201;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = "{\"ok\":true}";
    CHECK(http::serialize(r) ==
          "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
          "Content-Length: 11\r\n\r\n{\"ok\":true}");
}

TEST_CASE("response round trip keeps status, headers, body and keep-alive") {
    http::Response r;
    r.status = 429;
    r.headers = {{"X-Gaffer-Status", "busy"}, {"Retry-After", "1"}};
    r.body = std::string("binary\0body\r\n", 13);
    r.keep_alive = false;
    const auto back = reparse(http::serialize(r));
    CHECK(back.status == 429);
    CHECK(back.body == r.body);
    CHECK_FALSE(back.keep_alive);
    REQUIRE(back.headers.size() == 4);  // + Connection, Content-Length
    CHECK(*http::find_header(back.headers, "x-gaffer-status") == "busy");
    CHECK(*http::find_header(back.headers, "connection") == "close");
}

TEST_CASE("caller framing headers are replaced, not duplicated") {
    http::Response r;
    r.headers = {{"Content-Length", "999"}, {"Transfer-Encoding", "chunked"}};
    r.body = "abc";
    const std::string wire = http::serialize(r);
    CHECK(wire == "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
}

TEST_CASE("CR and LF cannot inject headers") {
    http::Response r;
    r.headers = {{"X-A", "v\r\nX-Injected: 1"}};
    const auto back = reparse(http::serialize(r));
    CHECK(http::find_header(back.headers, "x-injected") == nullptr);
    CHECK(*http::find_header(back.headers, "x-a") == "vX-Injected: 1");
}

TEST_CASE("204 and 304 carry neither body nor Content-Length") {
    http::Response r;
    r.status = 204;
    r.body = "ignored";
    CHECK(http::serialize(r) == "HTTP/1.1 204 No Content\r\n\r\n");
}

TEST_CASE("a request serializes and parses back") {
    http::Request q;
    q.method = "POST";
    q.target = "/v1/tasks/a b/invoke?async=true";
    q.headers = {{"Content-Type", "application/json"}};
    q.body = "{\"x\":1}";
    const std::string wire = http::serialize(q);
    CHECK(wire.rfind("POST /v1/tasks/a%20b/invoke?async=true HTTP/1.1\r\nHost: localhost\r\n",
                     0) == 0);
    const auto back = reparse_request(wire);
    CHECK(back.method == "POST");
    CHECK(back.path == "/v1/tasks/a b/invoke");
    CHECK(back.query == "async=true");
    CHECK(back.body == q.body);
    CHECK(back.keep_alive);
}

TEST_CASE("a request without method defaults to GET; POST without body sends length 0") {
    http::Request q;
    q.target = "/v1/status";
    q.keep_alive = false;
    q.headers = {{"Host", "gaffer"}};
    CHECK(http::serialize(q) == "GET /v1/status HTTP/1.1\r\nHost: gaffer\r\nConnection: close\r\n\r\n");
    http::Request post;
    post.method = "POST";
    post.target = "/x";
    CHECK(http::serialize(post).find("Content-Length: 0\r\n") != std::string::npos);
    const auto back = reparse_request(http::serialize(post));
    CHECK(back.body.empty());
}

TEST_CASE("reason phrases") {
    CHECK(http::reason_phrase(200) == "OK");
    CHECK(http::reason_phrase(404) == "Not Found");
    CHECK(http::reason_phrase(413) == "Payload Too Large");
    CHECK(http::reason_phrase(599) == "Unknown");
}

TEST_CASE("query parameters are found and decoded") {
    CHECK(http::find_query_param("async=true&tail=100", "tail") == "100");
    CHECK(http::find_query_param("async=true&tail=100", "async") == "true");
    CHECK(http::find_query_param("a=x%20y+z", "a") == "x y z");
    CHECK(http::find_query_param("flag&b=1", "flag") == "");
    CHECK_FALSE(http::find_query_param("a=1", "b").has_value());
    CHECK_FALSE(http::find_query_param("", "a").has_value());
    CHECK_FALSE(http::find_query_param("a=%zz", "a").has_value());
    CHECK(http::find_query_param("a%62=2", "ab") == "2");
}
