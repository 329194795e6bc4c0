// The Lambda Runtime API over HTTP/1.1 on 127.0.0.1 inside the environment: accepts
// connections (keep-alive, several at once), parses requests with gaffer::http and lets
// runtime::LambdaApi decide the answers. A GET /next without an invocation parks its
// connection until deliver().
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>

#include "coordinator/base/base.hpp"
#include "coordinator/http/http.hpp"
#include "tasks/init/detail/event_loop.hpp"
#include "tasks/runtime/runtime.hpp"

namespace gaffer::init {

class ApiServer {
public:
    struct Callbacks {
        std::function<void(runtime::Frame)> on_frame;  // ready, result, init_error for gafferd
        std::function<void()> on_waiting;              // a GET /next is parked
    };

    // Binds 127.0.0.1:port (0: an ephemeral port) and starts accepting on `loop`.
    static base::Result<std::unique_ptr<ApiServer>> start(EventLoop& loop, std::uint16_t port,
                                                          std::string function_arn, Callbacks callbacks);
    ~ApiServer();

    std::uint16_t port() const { return port_; }
    runtime::LambdaApi& api() { return api_; }
    bool has_waiter() const { return !waiters_.empty(); }
    // Answers the oldest parked GET /next with `invocation`. Requires has_waiter().
    void deliver(const runtime::Invocation& invocation);

private:
    struct Connection;
    ApiServer(EventLoop& loop, std::string arn, Callbacks callbacks);
    void accept_all();
    void on_event(int fd, std::uint32_t events);
    void serve(Connection& c);
    void flush(Connection& c);
    void close(int fd);

    static constexpr std::size_t kMaxConnections = 64;

    EventLoop& loop_;
    runtime::LambdaApi api_;
    Callbacks callbacks_;
    base::Fd listener_;
    EventLoop::Id listener_id_ = 0;
    std::uint16_t port_ = 0;
    std::map<int, std::unique_ptr<Connection>> connections_;
    std::deque<int> waiters_;  // fds of connections parked in GET /next, oldest first
};

}  // namespace gaffer::init
