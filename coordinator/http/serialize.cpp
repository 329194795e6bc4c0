#include <strings.h>

#include <initializer_list>

#include "coordinator/http/http.hpp"

namespace gaffer::http {
namespace {

// CR and LF would end the line early and let a value smuggle in a header of its own.
void append_clean(std::string& out, std::string_view text) {
    for (const char c : text) {
        if (c != '\r' && c != '\n') out.push_back(c);
    }
}

bool same_name(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Framing headers are the serializer's: a stale Content-Length from a caller would
// desynchronize the peer's parser.
bool is_framing_header(std::string_view name) {
    for (const std::string_view f : {"content-length", "transfer-encoding", "connection"}) {
        if (same_name(name, f)) return true;
    }
    return false;
}

void append_headers(std::string& out, const Headers& headers, bool keep_alive) {
    for (const auto& [name, value] : headers) {
        if (is_framing_header(name)) continue;
        append_clean(out, name);
        out += ": ";
        append_clean(out, value);
        out += "\r\n";
    }
    if (!keep_alive) out += "Connection: close\r\n";
}

bool status_has_body(int status) {
    return !(status / 100 == 1 || status == 204 || status == 304);
}

}  // namespace

std::string serialize(const Response& response) {
    const bool has_body = status_has_body(response.status);
    std::string out;
    out.reserve(128 + response.body.size());
    out += "HTTP/1.1 ";
    out += std::to_string(response.status);
    out += ' ';
    out += reason_phrase(response.status);
    out += "\r\n";
    append_headers(out, response.headers, response.keep_alive);
    if (has_body) {
        out += "Content-Length: ";
        out += std::to_string(response.body.size());
        out += "\r\n";
    }
    out += "\r\n";
    if (has_body) out += response.body;
    return out;
}

std::string serialize(const Request& request) {
    std::string out;
    out.reserve(128 + request.body.size());
    if (request.method.empty()) {
        out += "GET";
    } else {
        for (const char c : request.method) {
            if (c != '\r' && c != '\n' && c != ' ') out.push_back(c);
        }
    }
    out += ' ';
    for (const char c : request.target) {
        if (c == ' ') {
            out += "%20";
        } else if (c != '\r' && c != '\n') {
            out.push_back(c);
        }
    }
    out += " HTTP/1.1\r\n";
    if (find_header(request.headers, "host") == nullptr) out += "Host: localhost\r\n";
    append_headers(out, request.headers, request.keep_alive);
    const bool sends_body = !request.body.empty() || request.method == "POST" ||
                            request.method == "PUT" || request.method == "PATCH";
    if (sends_body) {
        out += "Content-Length: ";
        out += std::to_string(request.body.size());
        out += "\r\n";
    }
    out += "\r\n";
    out += request.body;
    return out;
}

}  // namespace gaffer::http
