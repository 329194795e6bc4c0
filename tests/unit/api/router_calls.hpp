// Shared by the router tests: a request as the server would parse it off the wire, one
// call through the router, and the JSON of an answer.
#pragma once

#include <doctest/doctest.h>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "coordinator/api/api.hpp"
#include "coordinator/http/http.hpp"

namespace gaffer::api::test {

inline http::Request make_request(std::string method, std::string target, std::string body = {}) {
    http::Request q;
    q.method = std::move(method);
    q.target = std::move(target);
    q.body = std::move(body);
    http::RequestParser parser;
    REQUIRE(parser.feed(http::serialize(q)));
    auto parsed = parser.next();
    REQUIRE(parsed);
    return *parsed;
}

// The answer given before handle() returned, if any.
inline std::optional<http::Response> call(Router& router, std::string method, std::string target,
                                          std::string body = {}) {
    std::optional<http::Response> out;
    int calls = 0;
    router.handle(make_request(std::move(method), std::move(target), std::move(body)), [&](http::Response r) {
        ++calls;
        out = std::move(r);
    });
    CHECK(calls <= 1);
    return out;
}

inline nlohmann::json body_json(const http::Response& r) { return nlohmann::json::parse(r.body); }

}  // namespace gaffer::api::test
