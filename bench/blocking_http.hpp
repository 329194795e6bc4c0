// A blocking keep-alive HTTP/1.1 exchange over a connected socket, for the benchmarks'
// clients (the warm-invoke client and the Lambda echo task).
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "coordinator/http/http.hpp"

namespace gaffer::bench {

class BlockingHttp {
public:
    explicit BlockingHttp(int fd) : fd_(fd) {}

    std::optional<http::Response> exchange(const http::Request& request) {
        std::string bytes = http::serialize(request);
        std::string_view rest = bytes;
        while (!rest.empty()) {
            ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return std::nullopt;
            rest.remove_prefix(static_cast<size_t>(n));
        }
        char buf[65536];
        for (;;) {
            if (auto response = parser_.next()) return response;
            ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return std::nullopt;
            if (!parser_.feed(std::string_view(buf, static_cast<size_t>(n)))) return std::nullopt;
        }
    }

private:
    int fd_;
    http::ResponseParser parser_;
};

}  // namespace gaffer::bench
