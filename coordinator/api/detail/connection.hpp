// One client connection of the API server: parse, queue pipelined requests, answer them in
// order one at a time, close on error, idle timeout or Connection: close.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>

#include "coordinator/api/api.hpp"
#include "coordinator/loop/loop.hpp"

namespace gaffer::api::detail {

// What a connection needs from its server.
struct ConnectionHost {
    loop::Loop& loop;
    Router& router;
    const ServerOptions& options;
    std::function<void(class Connection*)> drop;  // destroys the connection (maybe now)
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(ConnectionHost& host, std::unique_ptr<loop::Stream> stream);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void start();                          // serve requests
    void refuse(http::Response response);  // answer once without reading, then close
    bool refused() const { return refused_; }

private:
    void on_data(std::string_view bytes);
    void pump();
    void finish_request(http::Response response, bool request_keep_alive);
    void arm_idle_timer();
    void close_after_flush();
    void close_now();

    ConnectionHost& host_;
    std::unique_ptr<loop::Stream> stream_;
    http::RequestParser parser_;
    std::deque<http::Request> pending_;
    std::size_t pending_bytes_ = 0;
    std::optional<http::Response> parse_failure_;  // answered after the requests before it
    bool in_flight_ = false;
    bool pumping_ = false;
    bool closing_ = false;
    bool closed_ = false;
    bool refused_ = false;
    loop::Timer timer_;
    base::TimePoint flush_deadline_{};
};

}  // namespace gaffer::api::detail
