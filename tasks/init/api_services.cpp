// The device-service half of the ApiServer: relaying requests to gafferd, matching its
// answers to the waiting connections, the in-flight bound and the timeout.
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "tasks/init/detail/api_server.hpp"

namespace gaffer::init {
namespace {

std::int64_t monotonic_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

http::Response error(int status, std::string_view kind, std::string_view message, bool keep_alive) {
    return runtime::service_response(status, runtime::service_error_document(kind, message), keep_alive);
}

}  // namespace

base::Result<void> ApiServer::start_service_timer() {
    service_timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!service_timer_) return base::fail_errno(base::Errc::io, "timerfd for runtime API service requests", errno);
    auto id = loop_.add(service_timer_.get(), EPOLLIN, [this](std::uint32_t) { on_service_timer(); });
    if (!id) return tl::unexpected(id.error());
    service_timer_id_ = *id;
    return {};
}

void ApiServer::serve_service(Connection& c, http::Request request) {
    auto routed = runtime::route_service(request);
    if (routed.response) {
        write(c, *routed.response);
        return;
    }
    if (services_.size() >= runtime::kMaxServiceInFlight) {
        write(c, error(429, "busy",
                       std::to_string(runtime::kMaxServiceInFlight) +
                           " device-service requests of this environment are already waiting for gafferd; "
                           "retry later",
                       request.keep_alive));
        return;
    }
    runtime::ServiceRequest& call = *routed.request;
    call.id = next_service_id_++;
    services_.emplace(call.id, ServiceCall{c.fd.get(), c.serial, request.keep_alive,
                                           monotonic_ms() + options_.service_timeout_ms});
    c.awaiting = call.id;
    if (services_.size() == 1) arm_service_timer();
    // Only an update and a publish carry a body; a stray one on GET or DELETE is not sent.
    std::string payload;
    if (call.op == runtime::ServiceOp::shadow_update || call.op == runtime::ServiceOp::publish)
        payload = std::move(request.body);
    callbacks_.on_frame(runtime::Frame{runtime::FrameType::service_request, runtime::to_json(call),
                                       std::move(payload)});
}

void ApiServer::answer_service(const runtime::ServiceReply& reply, std::string body) {
    auto it = services_.find(reply.id);
    if (it == services_.end()) return;
    finish_service(reply.id, runtime::service_response(reply.status, std::move(body), it->second.keep_alive));
    arm_service_timer();
}

void ApiServer::finish_service(std::uint64_t id, http::Response response) {
    auto it = services_.find(id);
    const ServiceCall call = it->second;
    services_.erase(it);
    auto found = connections_.find(call.fd);
    if (found == connections_.end()) return;  // the task hung up
    Connection& c = *found->second;
    if (c.serial != call.serial || c.awaiting != id) return;
    c.awaiting = 0;
    response.keep_alive = call.keep_alive;
    write(c, response);
    serve(c);  // requests pipelined behind this one
    if (connections_.count(call.fd)) flush(c);
}

void ApiServer::on_service_timer() {
    std::uint64_t expirations = 0;
    [[maybe_unused]] auto n = ::read(service_timer_.get(), &expirations, sizeof expirations);
    const std::int64_t now = monotonic_ms();
    // Ids rise and the timeout is fixed, so the oldest request has the earliest deadline.
    while (!services_.empty() && services_.begin()->second.deadline_ms <= now) {
        const std::uint64_t id = services_.begin()->first;
        const bool keep_alive = services_.begin()->second.keep_alive;
        finish_service(id, error(504, "timeout",
                                 "gafferd did not answer within " + std::to_string(options_.service_timeout_ms) +
                                     " ms",
                                 keep_alive));
    }
    arm_service_timer();
}

void ApiServer::arm_service_timer() {
    itimerspec spec{};  // all zero: disarmed
    if (!services_.empty()) {
        // Absolute, and at least 1 ns: a zero it_value would disarm instead.
        const std::int64_t at = std::max<std::int64_t>(services_.begin()->second.deadline_ms, 0);
        spec.it_value.tv_sec = static_cast<time_t>(at / 1000);
        spec.it_value.tv_nsec = static_cast<long>((at % 1000) * 1000000);
        if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
    }
    ::timerfd_settime(service_timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

}  // namespace gaffer::init
