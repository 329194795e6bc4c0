// A Lambda custom runtime in C++ that echoes each event back: the warm-invocation
// benchmark's task, fast enough that the figure measures Gaffer rather than the task.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/blocking_http.hpp"

int main() {
    const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) {
        std::fprintf(stderr, "lambda_echo: AWS_LAMBDA_RUNTIME_API is not set\n");
        return 1;
    }
    std::string host_port = api;
    auto colon = host_port.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::atoi(host_port.c_str() + colon + 1)));
    ::inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("lambda_echo: connect");
        return 1;
    }
    gaffer::bench::BlockingHttp client(fd);
    gaffer::http::Request next{.method = "GET", .target = "/2018-06-01/runtime/invocation/next",
                               .headers = {{"Host", host_port}}};
    for (;;) {
        auto event = client.exchange(next);
        if (!event) return 0;  // the environment is going away
        const std::string* id = gaffer::http::find_header(event->headers, "Lambda-Runtime-Aws-Request-Id");
        if (!id) return 1;
        gaffer::http::Request reply{.method = "POST",
                                    .target = "/2018-06-01/runtime/invocation/" + *id + "/response",
                                    .headers = {{"Host", host_port}},
                                    .body = std::move(event->body)};
        if (!client.exchange(reply)) return 0;
    }
}
