// gaffer::http — a small HTTP/1.1 codec over http-parser (pure: bytes in, messages out).
// Used by the local API server (gafferd), the CLI client (gaffer) and the Lambda runtime
// API server (gaffer-init). Keep-alive and pipelining are supported; chunked request
// bodies are decoded. Every size is bounded: a message over the limit is an error.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coordinator/base/base.hpp"

namespace gaffer::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; nullptr when absent.
const std::string* find_header(const Headers& headers, std::string_view name);

struct Request {
    std::string method;   // "GET", "POST", ...
    std::string target;   // as sent: path plus optional "?query"
    std::string path;     // target without the query, percent-decoded
    std::string query;    // after '?', raw
    Headers headers;
    std::string body;
    bool keep_alive = true;
};

struct Response {
    int status = 200;
    Headers headers;      // Content-Length is added by serialize()
    std::string body;
    bool keep_alive = true;
};

struct Limits {
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_body_bytes = 8u << 20;  // 6 MB Lambda payloads plus room
};

// Incremental request parser for a server connection.
class RequestParser {
public:
    explicit RequestParser(Limits limits = {});
    ~RequestParser();
    RequestParser(RequestParser&&) noexcept;
    RequestParser& operator=(RequestParser&&) noexcept;

    // Feeds bytes. Errors: Errc::invalid with the reason (malformed, header or body over
    // the limit); the connection should answer error_status() and close. A failed parser
    // stays failed. Bytes after a request that ends the connection (Connection: close,
    // HTTP/1.0 without keep-alive) are ignored. An empty feed is a no-op.
    base::Result<void> feed(std::string_view bytes);
    std::optional<Request> next();  // a whole request, in arrival order
    // After feed() failed: 400 (malformed), 413 (body over the limit), 431 (headers over
    // the limit). 0 while no error happened.
    int error_status() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Incremental response parser for a client connection.
class ResponseParser {
public:
    explicit ResponseParser(Limits limits = {});
    ~ResponseParser();
    ResponseParser(ResponseParser&&) noexcept;
    ResponseParser& operator=(ResponseParser&&) noexcept;
    // As RequestParser::feed. Responses to HEAD requests are not supported (their headers
    // announce a body that never comes).
    base::Result<void> feed(std::string_view bytes);
    // The server closed the connection: completes a body delimited by EOF; Errc::invalid
    // when a response was cut short.
    base::Result<void> finish();
    std::optional<Response> next();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Serializers write HTTP/1.1. They drop caller-supplied Content-Length, Transfer-Encoding
// and Connection headers and write their own (Connection: close when !keep_alive); CR and
// LF inside names, values and the target are removed so a value cannot inject a header.
// A Response with status 1xx, 204 or 304 carries no body and no Content-Length.
std::string serialize(const Response& response);
// Uses method (empty: GET), target, headers, body, keep_alive; adds "Host: localhost"
// when no Host header is given.
std::string serialize(const Request& request);
std::string_view reason_phrase(int status);  // "Unknown" for codes it does not know

// The value of `name` in a query string ("a=1&b=x%20y"), percent-decoded ('+' is a
// space); an empty string for a key without '='; nullopt when absent or badly encoded.
std::optional<std::string> find_query_param(std::string_view query, std::string_view name);

}  // namespace gaffer::http
