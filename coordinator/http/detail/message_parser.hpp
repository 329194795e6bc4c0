// The engine shared by RequestParser and ResponseParser: one http_parser, its callbacks,
// the limits, and a queue of completed messages. Private to coordinator/http.
#pragma once

#include <http_parser.h>

#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "coordinator/http/http.hpp"

namespace gaffer::http::detail {

struct ParsedMessage {
    std::string method;  // requests
    std::string url;     // requests: the raw target
    std::string path;    // requests: decoded path of the target
    std::string query;   // requests: raw query of the target
    int status = 0;      // responses
    Headers headers;
    std::string body;
    bool keep_alive = true;
};

class MessageParser {
public:
    MessageParser(http_parser_type type, Limits limits);
    MessageParser(const MessageParser&) = delete;  // http_parser.data points at this
    MessageParser& operator=(const MessageParser&) = delete;

    base::Result<void> feed(std::string_view bytes);
    base::Result<void> finish();  // the peer closed its side
    std::optional<ParsedMessage> next();
    int error_status() const { return error_status_; }

private:
    static int on_message_begin(http_parser* p);
    static int on_url(http_parser* p, const char* at, std::size_t n);
    static int on_status(http_parser* p, const char* at, std::size_t n);
    static int on_header_field(http_parser* p, const char* at, std::size_t n);
    static int on_header_value(http_parser* p, const char* at, std::size_t n);
    static int on_headers_complete(http_parser* p);
    static int on_body(http_parser* p, const char* at, std::size_t n);
    static int on_message_complete(http_parser* p);
    static const http_parser_settings& settings();

    int count_header_bytes(std::size_t n);
    int reject(int status, std::string message);
    base::Result<void> fail_from_parser(std::size_t offset);

    http_parser parser_{};
    Limits limits_;
    ParsedMessage current_;
    std::deque<ParsedMessage> done_;
    std::size_t header_bytes_ = 0;
    bool in_value_ = false;      // the last header callback was a value
    bool headers_done_ = false;  // later header callbacks are chunked trailers: dropped
    bool in_message_ = false;
    bool closed_ = false;        // a message that ends the connection completed
    std::optional<base::Error> failure_;  // sticky: a failed parser stays failed
    int error_status_ = 0;
    std::string reject_message_;
};

}  // namespace gaffer::http::detail
