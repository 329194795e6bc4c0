// The HTTP server on 127.0.0.1 inside the environment that every task gets
// (GAFFER_RUNTIME_API; also AWS_LAMBDA_RUNTIME_API for lambda tasks): accepts connections
// (keep-alive, several at once) and parses requests with gaffer::http.
//
// - /gaffer/... : the device services (runtime.hpp, "Device services"). A well-formed
//   request becomes a service_request frame and its connection waits for answer_service();
//   at most kMaxServiceInFlight wait at once (one more is answered 429), and one that
//   gafferd has not answered within the service timeout is answered 504.
// - anything else: the Lambda Runtime API, decided by runtime::LambdaApi (lambda tasks
//   only; other tasks get 404). A GET /next without an invocation parks its connection
//   until deliver().
//
// Single-threaded, on the supervisor's EventLoop.
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
    struct Options {
        std::uint16_t port = 0;           // 0: an ephemeral port
        std::string function_arn;
        bool lambda = true;               // serve the Lambda Runtime API
        std::uint32_t service_timeout_ms = 10000;
    };
    struct Callbacks {
        // For gafferd: ready, result, init_error (Lambda) and service_request.
        std::function<void(runtime::Frame)> on_frame;
        std::function<void()> on_waiting;  // a GET /next is parked
    };

    // Binds 127.0.0.1:port and starts accepting on `loop`.
    static base::Result<std::unique_ptr<ApiServer>> start(EventLoop& loop, Options options, Callbacks callbacks);
    ~ApiServer();

    std::uint16_t port() const { return port_; }
    runtime::LambdaApi& api() { return api_; }
    bool has_waiter() const { return !waiters_.empty(); }
    // Answers the oldest parked GET /next with `invocation`. Requires has_waiter().
    void deliver(const runtime::Invocation& invocation);
    // gafferd's answer to service request `reply.id`: written to the waiting connection.
    // Ignored when the request is no longer waiting (answered 504 already).
    void answer_service(const runtime::ServiceReply& reply, std::string body);

private:
    struct Connection {
        base::Fd fd;
        std::uint64_t serial = 0;
        EventLoop::Id id = 0;
        http::RequestParser parser;
        std::string out;
        bool parked = false;
        bool parked_keep_alive = true;
        bool closing = false;  // close once `out` is written
        bool busy = false;     // serve() is running for it
        std::uint64_t awaiting = 0;  // the service request it waits for (0: none)
    };
    // A service request relayed to gafferd; its connection is found by fd and serial (an
    // fd number may have been reused by a newer connection meanwhile).
    struct ServiceCall {
        int fd = -1;
        std::uint64_t serial = 0;
        bool keep_alive = true;
        std::int64_t deadline_ms = 0;  // CLOCK_MONOTONIC
    };

    ApiServer(EventLoop& loop, Options options, Callbacks callbacks);
    void accept_all();
    void on_event(int fd, std::uint32_t events);
    void serve(Connection& c);
    void flush(Connection& c);
    void close(int fd);
    void write(Connection& c, const http::Response& response);

    // api_services.cpp
    base::Result<void> start_service_timer();
    void serve_service(Connection& c, http::Request request);
    void finish_service(std::uint64_t id, http::Response response);
    void on_service_timer();
    void arm_service_timer();

    static constexpr std::size_t kMaxConnections = 64;

    EventLoop& loop_;
    Options options_;
    runtime::LambdaApi api_;
    Callbacks callbacks_;
    base::Fd listener_;
    EventLoop::Id listener_id_ = 0;
    std::uint16_t port_ = 0;
    std::map<int, std::unique_ptr<Connection>> connections_;
    std::uint64_t next_serial_ = 1;
    std::deque<int> waiters_;  // fds of connections parked in GET /next, oldest first
    std::map<std::uint64_t, ServiceCall> services_;  // by id; ids rise, so oldest first
    std::uint64_t next_service_id_ = 1;
    base::Fd service_timer_;
    EventLoop::Id service_timer_id_ = 0;
};

}  // namespace gaffer::init
