#include "coordinator/api/detail/connection.hpp"

#include <chrono>

namespace gaffer::api::detail {
namespace {

using namespace std::chrono_literals;

// libuv has no "closed after flush" for streams, and Stream::close() drops queued writes:
// a final response is given this long to drain, checked at this interval.
constexpr base::Duration kFlushPoll = 2ms;
constexpr base::Duration kFlushLimit = 2s;
constexpr base::Duration kRefusalLinger = 2s;

}  // namespace

Connection::Connection(ConnectionHost& host, std::unique_ptr<loop::Stream> stream)
    : host_(host), stream_(std::move(stream)), parser_(host.options.limits), timer_(host.loop) {}

Connection::~Connection() = default;

void Connection::start() {
    std::weak_ptr<Connection> weak = weak_from_this();
    stream_->start(
        [weak](std::string_view bytes) {
            if (auto self = weak.lock()) self->on_data(bytes);
        },
        [weak](base::Error) {
            // Peer gone (EOF or error): the stream is closed, nothing can be answered.
            if (auto self = weak.lock()) self->close_now();
        });
    arm_idle_timer();
}

void Connection::refuse(http::Response response) {
    refused_ = true;
    std::weak_ptr<Connection> weak = weak_from_this();
    stream_->start([](std::string_view) {},
                   [weak](base::Error) {
                       if (auto self = weak.lock()) self->close_now();
                   });
    host_.router.count_response(response.status);
    response.keep_alive = false;
    stream_->write(http::serialize(response));
    // Not closed once written: a client that had not sent its request yet would see its
    // write fail (EPIPE) and never read the answer. It closes after reading it
    // ("Connection: close"), or the linger deadline closes it.
    closing_ = true;
    timer_.start(kRefusalLinger, [weak] {
        if (auto self = weak.lock()) self->close_now();
    });
}

void Connection::on_data(std::string_view bytes) {
    auto self = shared_from_this();  // close_now() below may drop the host's reference
    if (closing_ || parse_failure_) return;
    auto fed = parser_.feed(bytes);
    while (auto request = parser_.next()) {
        pending_bytes_ += request->body.size();
        pending_.push_back(std::move(*request));
    }
    // A client that pipelines faster than we answer is cut off, not buffered without end.
    const auto& o = host_.options;
    if (pending_.size() > o.max_pipelined + 1 || pending_bytes_ > 2 * o.limits.max_body_bytes) {
        return close_now();
    }
    if (!fed) {
        const int status = parser_.error_status() != 0 ? parser_.error_status() : 400;
        parse_failure_ = error_response(status, "invalid", fed.error().message);
    }
    pump();
}

void Connection::pump() {
    if (pumping_) return;  // a synchronous answer inside router.handle(): the loop below goes on
    pumping_ = true;
    while (!in_flight_ && !closing_ && !closed_) {
        if (pending_.empty()) {
            if (parse_failure_) {
                auto failure = std::move(*parse_failure_);
                host_.router.count_response(failure.status);
                failure.keep_alive = false;
                stream_->write(http::serialize(failure));
                close_after_flush();
            }
            break;
        }
        // Answers the client does not read pile up in the write queue; stop serving it.
        if (stream_->write_queue_bytes() > host_.options.limits.max_body_bytes + 65536) {
            close_now();
            break;
        }
        http::Request request = std::move(pending_.front());
        pending_.pop_front();
        pending_bytes_ -= request.body.size();
        in_flight_ = true;
        timer_.stop();
        std::weak_ptr<Connection> weak = weak_from_this();
        const bool keep_alive = request.keep_alive;
        host_.router.handle(request, [weak, keep_alive](http::Response response) {
            // A synchronous invocation answers later; the client may have gone by then.
            if (auto self = weak.lock()) self->finish_request(std::move(response), keep_alive);
        });
    }
    pumping_ = false;
}

void Connection::finish_request(http::Response response, bool request_keep_alive) {
    auto self = shared_from_this();
    in_flight_ = false;
    if (closed_) return;
    response.keep_alive = response.keep_alive && request_keep_alive;
    stream_->write(http::serialize(response));
    if (!response.keep_alive) return close_after_flush();
    if (pending_.empty() && !parse_failure_) arm_idle_timer();
    pump();
}

void Connection::arm_idle_timer() {
    std::weak_ptr<Connection> weak = weak_from_this();
    timer_.start(host_.options.idle_timeout, [weak] {
        auto self = weak.lock();
        if (self && !self->in_flight_) self->close_now();
    });
}

void Connection::close_after_flush() {
    if (closing_ || closed_) return;
    closing_ = true;
    flush_deadline_ = std::chrono::steady_clock::now() + kFlushLimit;
    std::weak_ptr<Connection> weak = weak_from_this();
    timer_.start(
        kFlushPoll,
        [weak] {
            auto self = weak.lock();
            if (!self) return;
            if (self->stream_->write_queue_bytes() == 0 ||
                std::chrono::steady_clock::now() >= self->flush_deadline_) {
                self->close_now();
            }
        },
        kFlushPoll);
}

void Connection::close_now() {
    if (closed_) return;
    closed_ = true;
    auto self = shared_from_this();
    timer_.stop();
    stream_->close();
    host_.drop(this);
}

}  // namespace gaffer::api::detail
