#include "coordinator/http/detail/message_parser.hpp"

#include "coordinator/http/detail/percent.hpp"

#include <climits>
#include <cstdint>

namespace gaffer::http::detail {
namespace {

MessageParser& self(http_parser* p) { return *static_cast<MessageParser*>(p->data); }

// Bytes of a header line beyond its name and value (": " and CRLF).
constexpr std::size_t header_line_overhead = 4;

// http_parser checks the target's characters, not its encoding. Splits origin-form ("/a?b")
// and absolute-form ("http://h/a?b") targets into a decoded path and a raw query; returns
// what was wrong, or an empty string.
std::string split_target(ParsedMessage& m) {
    http_parser_url url;
    http_parser_url_init(&url);
    const std::string& t = m.url;
    if (http_parser_parse_url(t.data(), t.size(), 0, &url) != 0) {
        return "malformed request target '" + t + "'";
    }
    std::string_view raw_path = "/";
    if (url.field_set & (1 << UF_PATH)) {
        raw_path = std::string_view(t).substr(url.field_data[UF_PATH].off,
                                              url.field_data[UF_PATH].len);
    }
    if (url.field_set & (1 << UF_QUERY)) {
        m.query = t.substr(url.field_data[UF_QUERY].off, url.field_data[UF_QUERY].len);
    }
    auto decoded = percent_decode(raw_path, false);
    if (!decoded) return "request path '" + std::string(raw_path) + "' is badly percent-encoded";
    m.path = std::move(*decoded);
    return {};
}

}  // namespace

const http_parser_settings& MessageParser::settings() {
    static const http_parser_settings s = [] {
        http_parser_settings v;
        http_parser_settings_init(&v);
        v.on_message_begin = &MessageParser::on_message_begin;
        v.on_url = &MessageParser::on_url;
        v.on_status = &MessageParser::on_status;
        v.on_header_field = &MessageParser::on_header_field;
        v.on_header_value = &MessageParser::on_header_value;
        v.on_headers_complete = &MessageParser::on_headers_complete;
        v.on_body = &MessageParser::on_body;
        v.on_message_complete = &MessageParser::on_message_complete;
        return v;
    }();
    return s;
}

MessageParser::MessageParser(http_parser_type type, Limits limits) : limits_(limits) {
    http_parser_init(&parser_, type);
    parser_.data = this;
}

int MessageParser::reject(int status, std::string message) {
    error_status_ = status;
    reject_message_ = std::move(message);
    // -1, not 1: on_headers_complete returning 1 means "skip the body", not an error.
    return -1;
}

int MessageParser::count_header_bytes(std::size_t n) {
    header_bytes_ += n;
    if (header_bytes_ > limits_.max_header_bytes) {
        return reject(431, "header section is larger than the limit of " +
                               std::to_string(limits_.max_header_bytes) + " bytes");
    }
    return 0;
}

int MessageParser::on_message_begin(http_parser* p) {
    auto& s = self(p);
    s.current_ = ParsedMessage{};
    s.header_bytes_ = 0;
    s.in_value_ = false;
    s.headers_done_ = false;
    s.in_message_ = true;
    return 0;
}

int MessageParser::on_url(http_parser* p, const char* at, std::size_t n) {
    auto& s = self(p);
    s.current_.url.append(at, n);
    return s.count_header_bytes(n);
}

int MessageParser::on_status(http_parser* p, const char*, std::size_t n) {
    return self(p).count_header_bytes(n);
}

int MessageParser::on_header_field(http_parser* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (s.headers_done_) return s.count_header_bytes(n);
    auto& headers = s.current_.headers;
    std::size_t extra = 0;
    if (headers.empty() || s.in_value_) {
        headers.emplace_back();
        extra = header_line_overhead;
    }
    s.in_value_ = false;
    headers.back().first.append(at, n);
    return s.count_header_bytes(n + extra);
}

int MessageParser::on_header_value(http_parser* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (s.headers_done_) return s.count_header_bytes(n);
    s.in_value_ = true;
    s.current_.headers.back().second.append(at, n);
    return s.count_header_bytes(n);
}

int MessageParser::on_headers_complete(http_parser* p) {
    auto& s = self(p);
    s.headers_done_ = true;
    if (p->type == HTTP_REQUEST) {
        s.current_.method = http_method_str(static_cast<http_method>(p->method));
        if (auto wrong = split_target(s.current_); !wrong.empty()) return s.reject(400, wrong);
    } else {
        s.current_.status = static_cast<int>(p->status_code);
    }
    // http_parser leaves content_length at ULLONG_MAX when the header is absent. Refusing a
    // declared oversize body here answers 413 before the client sends megabytes.
    const bool chunked = (p->flags & F_CHUNKED) != 0;
    if (!chunked && p->content_length != ULLONG_MAX &&
        p->content_length > s.limits_.max_body_bytes) {
        return s.reject(413, "body of " + std::to_string(p->content_length) +
                                 " bytes is larger than the limit of " +
                                 std::to_string(s.limits_.max_body_bytes) + " bytes");
    }
    return 0;
}

int MessageParser::on_body(http_parser* p, const char* at, std::size_t n) {
    auto& s = self(p);
    if (s.current_.body.size() + n > s.limits_.max_body_bytes) {
        return s.reject(413, "body is larger than the limit of " +
                                 std::to_string(s.limits_.max_body_bytes) + " bytes");
    }
    s.current_.body.append(at, n);
    return 0;
}

int MessageParser::on_message_complete(http_parser* p) {
    auto& s = self(p);
    s.current_.keep_alive = http_should_keep_alive(p) != 0;
    if (!s.current_.keep_alive) {
        // Nothing after this message is answered; pausing stops http_parser from parsing
        // pipelined bytes that follow it in the same buffer.
        s.closed_ = true;
        http_parser_pause(p, 1);
    }
    s.in_message_ = false;
    s.done_.push_back(std::move(s.current_));
    s.current_ = ParsedMessage{};
    return 0;
}

base::Result<void> MessageParser::fail_from_parser(std::size_t offset) {
    const auto err = static_cast<http_errno>(parser_.http_errno);
    std::string message;
    if (!reject_message_.empty()) {
        message = reject_message_;
    } else if (err == HPE_HEADER_OVERFLOW) {
        error_status_ = 431;
        message = "header section is larger than the parser's limit";
    } else {
        error_status_ = 400;
        message = std::string("malformed HTTP message at byte ") + std::to_string(offset) +
                  ": " + http_errno_description(err);
    }
    failure_ = base::Error{base::Errc::invalid, std::move(message)};
    return tl::unexpected<base::Error>(*failure_);
}

base::Result<void> MessageParser::feed(std::string_view bytes) {
    if (failure_) return tl::unexpected<base::Error>(*failure_);
    // Bytes after a message that closes the connection are never answered: drop them.
    // (http_parser would report HPE_CLOSED_CONNECTION for them.) An empty feed is not EOF.
    if (closed_ || bytes.empty()) return {};
    const std::size_t parsed =
        http_parser_execute(&parser_, &settings(), bytes.data(), bytes.size());
    if (closed_) return {};
    if (parser_.http_errno != HPE_OK) return fail_from_parser(parsed);
    if (parser_.upgrade) {
        error_status_ = 400;
        failure_ = base::Error{base::Errc::invalid, "protocol upgrade is not supported"};
        return tl::unexpected<base::Error>(*failure_);
    }
    if (parsed != bytes.size()) {
        error_status_ = 400;
        failure_ = base::Error{base::Errc::invalid, "parser stopped before the end of input"};
        return tl::unexpected<base::Error>(*failure_);
    }
    return {};
}

base::Result<void> MessageParser::finish() {
    if (failure_) return tl::unexpected<base::Error>(*failure_);
    if (closed_) return {};
    // A zero-length execute tells http_parser about EOF: it completes a body that runs to
    // the end of the connection, or reports a message cut short.
    http_parser_execute(&parser_, &settings(), nullptr, 0);
    if (closed_) return {};
    if (parser_.http_errno != HPE_OK) return fail_from_parser(0);
    if (in_message_) {
        error_status_ = 400;
        failure_ = base::Error{base::Errc::invalid,
                               "connection closed in the middle of a message"};
        return tl::unexpected<base::Error>(*failure_);
    }
    closed_ = true;
    return {};
}

std::optional<ParsedMessage> MessageParser::next() {
    if (done_.empty()) return std::nullopt;
    ParsedMessage m = std::move(done_.front());
    done_.pop_front();
    return m;
}

}  // namespace gaffer::http::detail
