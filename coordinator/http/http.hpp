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
    // the limit); the connection should answer 400/413 (error().message says which) and close.
    base::Result<void> feed(std::string_view bytes);
    std::optional<Request> next();  // a whole request, in arrival order

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
    base::Result<void> feed(std::string_view bytes);
    std::optional<Response> next();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

std::string serialize(const Response& response);
std::string serialize(const Request& request);  // uses target, headers, body
std::string_view reason_phrase(int status);

}  // namespace gaffer::http
