// Warm invocation round trip through gafferd's local API to a warm `lambda` task and back,
// against a plain Unix-socket echo round trip measured in the same run.
//   warm_invoke SOCKET TASK [ITERATIONS]
// Prints tab-separated figures (see bench_stats.hpp).
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/bench_stats.hpp"
#include "bench/blocking_http.hpp"

using namespace gaffer::bench;

namespace {
int connect_unix(const char* path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("connect");
        std::exit(1);
    }
    return fd;
}

bool read_exact(int fd, char* buf, size_t n) {
    while (n > 0) {
        ssize_t got = ::read(fd, buf, n);
        if (got <= 0) return false;
        buf += got;
        n -= static_cast<size_t>(got);
    }
    return true;
}

// The baseline: a message of the same size as the invoke request, echoed by another
// process over a Unix socket pair.
Samples echo_round_trips(size_t message_bytes, int iterations) {
    int fds[2];
    ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
    pid_t child = ::fork();
    if (child == 0) {
        ::close(fds[0]);
        std::string buf(message_bytes, '\0');
        while (read_exact(fds[1], buf.data(), buf.size()))
            if (::write(fds[1], buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) break;
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string message(message_bytes, 'x');
    std::string reply(message_bytes, '\0');
    Samples samples;
    for (int i = 0; i < iterations; ++i) {
        auto start = Clock::now();
        if (::write(fds[0], message.data(), message.size()) != static_cast<ssize_t>(message.size())) break;
        if (!read_exact(fds[0], reply.data(), reply.size())) break;
        samples.values.push_back(micros_since(start));
    }
    ::close(fds[0]);
    ::waitpid(child, nullptr, 0);
    return samples;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: warm_invoke SOCKET TASK [ITERATIONS]\n");
        return 2;
    }
    int iterations = argc > 3 ? std::atoi(argv[3]) : 5000;
    int fd = connect_unix(argv[1]);
    BlockingHttp client(fd);
    gaffer::http::Request request{.method = "POST",
                                  .target = std::string("/v1/tasks/") + argv[2] + "/invoke",
                                  .headers = {{"Host", "gaffer"}, {"Content-Type", "application/json"}},
                                  .body = R"({"sensor":"t1","value":21.5})"};
    Samples invoke;
    for (int i = 0; i < iterations + 200; ++i) {
        auto start = Clock::now();
        auto response = client.exchange(request);
        double us = micros_since(start);
        if (!response || response->status != 200 || response->body != request.body) {
            std::fprintf(stderr, "warm_invoke: bad response (status %d): %s\n",
                         response ? response->status : -1, response ? response->body.c_str() : "none");
            return 1;
        }
        if (i >= 200) invoke.values.push_back(us);  // the first ones warm caches and the task
    }
    size_t request_bytes = gaffer::http::serialize(request).size();
    Samples echo = echo_round_trips(request_bytes, iterations);
    double p50 = invoke.percentile(50), p99 = invoke.percentile(99);
    double e50 = echo.percentile(50), e99 = echo.percentile(99);
    report("warm_invoke_p50", p50, "us");
    report("warm_invoke_p99", p99, "us");
    report("unix_echo_p50", e50, "us");
    report("unix_echo_p99", e99, "us");
    report("warm_invoke_p50_vs_echo", p50 / e50, "x");
    return 0;
}
