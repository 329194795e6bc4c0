// The device benchmarks' task: a Lambda custom runtime that publishes every event it gets
// (a routed device message) on the topic given as argv[1], through Gaffer's runtime API
// extension (POST /gaffer/v1/publish, QoS 0), then answers the invocation. A device
// subscribed there sees each device -> task invocation complete: the device -> task -> device
// round trip that the routing benchmarks time and count.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/blocking_http.hpp"

int main(int argc, char** argv) {
    const char* api = std::getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api || argc < 2) {
        std::fprintf(stderr, "bench_route_relay TOPIC: needs AWS_LAMBDA_RUNTIME_API and a topic\n");
        return 1;
    }
    const std::string host_port = api;
    const auto colon = host_port.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::atoi(host_port.c_str() + colon + 1)));
    ::inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("bench_route_relay: connect");
        return 1;
    }
    // A topic of [A-Za-z0-9/_-] needs no percent-encoding ('/' may stay as it is).
    const std::string publish_target = "/gaffer/v1/publish?topic=" + std::string(argv[1]) + "&qos=0";
    gaffer::bench::BlockingHttp client(fd);
    const gaffer::http::Request next{.method = "GET", .target = "/2018-06-01/runtime/invocation/next",
                                     .headers = {{"Host", host_port}}};
    for (;;) {
        auto event = client.exchange(next);
        if (!event) return 0;  // the environment is going away
        const std::string* id = gaffer::http::find_header(event->headers, "Lambda-Runtime-Aws-Request-Id");
        if (!id) return 1;
        gaffer::http::Request publish{.method = "POST", .target = publish_target,
                                      .headers = {{"Host", host_port}}, .body = std::move(event->body)};
        auto published = client.exchange(publish);
        if (!published) return 0;
        if (published->status != 202)
            std::fprintf(stderr, "bench_route_relay: publish answered %d: %s\n", published->status,
                         published->body.c_str());
        gaffer::http::Request reply{.method = "POST", .target = "/2018-06-01/runtime/invocation/" + *id + "/response",
                                    .headers = {{"Host", host_port}}, .body = "{}"};
        if (!client.exchange(reply)) return 0;
    }
}
