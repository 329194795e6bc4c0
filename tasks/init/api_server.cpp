#include "tasks/init/detail/api_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace gaffer::init {

ApiServer::ApiServer(EventLoop& loop, Options options, Callbacks callbacks)
    : loop_(loop), options_(std::move(options)), api_(options_.function_arn), callbacks_(std::move(callbacks)) {}

base::Result<std::unique_ptr<ApiServer>> ApiServer::start(EventLoop& loop, Options options, Callbacks callbacks) {
    const std::uint16_t port = options.port;
    std::unique_ptr<ApiServer> server(new ApiServer(loop, std::move(options), std::move(callbacks)));
    server->listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!server->listener_) return base::fail_errno(base::Errc::io, "runtime API socket", errno);
    int one = 1;
    ::setsockopt(server->listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(server->listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return base::fail_errno(base::Errc::unavailable, "runtime API bind 127.0.0.1:" + std::to_string(port), errno);
    if (::listen(server->listener_.get(), 64) != 0)
        return base::fail_errno(base::Errc::io, "runtime API listen", errno);
    socklen_t len = sizeof addr;
    ::getsockname(server->listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    server->port_ = ntohs(addr.sin_port);
    ApiServer* self = server.get();
    auto id = loop.add(server->listener_.get(), EPOLLIN, [self](std::uint32_t) { self->accept_all(); });
    if (!id) return tl::unexpected(id.error());
    server->listener_id_ = *id;
    if (auto timer = server->start_service_timer(); !timer) return tl::unexpected(timer.error());
    return server;
}

ApiServer::~ApiServer() {
    for (auto& [fd, c] : connections_) loop_.remove(c->id);
    loop_.remove(listener_id_);
    loop_.remove(service_timer_id_);
}

void ApiServer::accept_all() {
    for (;;) {
        int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN, or a transient error: the next event retries
        if (connections_.size() >= kMaxConnections) {
            ::close(fd);
            continue;
        }
        auto c = std::make_unique<Connection>();
        c->fd.reset(fd);
        c->serial = next_serial_++;
        auto id = loop_.add(fd, EPOLLIN | EPOLLRDHUP, [this, fd](std::uint32_t ev) { on_event(fd, ev); });
        if (!id) continue;  // c's destructor closes fd
        c->id = *id;
        connections_.emplace(fd, std::move(c));
    }
}

void ApiServer::on_event(int fd, std::uint32_t events) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) return;
    Connection& c = *it->second;
    if (events & EPOLLOUT) flush(c);
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
        static char buf[64 * 1024];  // static: a 64 KiB frame costs 16 probed page faults
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (n <= 0) {
                // Peer closed (or reset): a parked /next is abandoned; pending output is
                // still written if the peer only shut down its sending side.
                if (c.parked || c.out.empty() || n < 0) {
                    close(fd);
                    return;
                }
                c.closing = true;
                break;
            }
            if (c.closing) continue;  // after a fatal parse error, drain and discard
            if (auto r = c.parser.feed(std::string_view(buf, static_cast<std::size_t>(n))); !r) {
                serve(c);  // answer whatever was complete before the bad bytes
                int status = c.parser.error_status();
                http::Response bad;
                bad.status = status ? status : 400;
                bad.headers.emplace_back("Content-Type", "application/json");
                bad.body = runtime::error_document(r.error().message,
                                                   bad.status == 413 ? "RequestEntityTooLarge" : "InvalidRequest");
                bad.keep_alive = false;
                if (!c.parked && !c.awaiting) c.out += http::serialize(bad);
                c.closing = true;
                break;
            }
        }
        serve(c);
    }
    if (connections_.count(fd)) flush(c);
}

void ApiServer::serve(Connection& c) {
    if (c.busy) return;
    c.busy = true;
    while (!c.parked && !c.awaiting && !c.closing) {
        auto request = c.parser.next();
        if (!request) break;
        if (runtime::is_service_path(request->path)) {
            serve_service(c, std::move(*request));
            continue;
        }
        if (!options_.lambda) {
            write(c, runtime::service_response(
                         404,
                         runtime::service_error_document(
                             "not_found", "unknown route " + request->method + " " + request->path +
                                              ": the Lambda Runtime API is served to lambda tasks only; "
                                              "this task has the routes under " +
                                              std::string(runtime::kServicePrefix)),
                         request->keep_alive));
            continue;
        }
        auto outcome = api_.handle(*request);
        if (outcome.response) {
            write(c, *outcome.response);
        } else {
            c.parked = true;
            c.parked_keep_alive = request->keep_alive;
            waiters_.push_back(c.fd.get());
        }
        if (outcome.frame) callbacks_.on_frame(std::move(*outcome.frame));
        if (c.parked) callbacks_.on_waiting();
    }
    c.busy = false;
}

void ApiServer::deliver(const runtime::Invocation& invocation) {
    while (!waiters_.empty()) {
        int fd = waiters_.front();
        waiters_.pop_front();
        auto it = connections_.find(fd);
        if (it == connections_.end() || !it->second->parked) continue;
        Connection& c = *it->second;
        http::Response r = api_.start(invocation);
        r.keep_alive = c.parked_keep_alive;
        c.parked = false;
        if (!r.keep_alive) c.closing = true;
        c.out += http::serialize(r);
        serve(c);  // requests pipelined behind the /next
        if (connections_.count(fd)) flush(c);
        return;
    }
}

void ApiServer::write(Connection& c, const http::Response& response) {
    c.out += http::serialize(response);
    if (!response.keep_alive) c.closing = true;
}

void ApiServer::flush(Connection& c) {
    while (!c.out.empty()) {
        ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n <= 0) {
            close(c.fd.get());
            return;
        }
        c.out.erase(0, static_cast<std::size_t>(n));
    }
    if (c.out.empty() && c.closing && !c.busy) {
        close(c.fd.get());
        return;
    }
    if (c.out.empty() && c.out.capacity() > (256u << 10)) std::string().swap(c.out);
    loop_.modify(c.id, EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : static_cast<std::uint32_t>(EPOLLOUT)));
}

void ApiServer::close(int fd) {
    auto it = connections_.find(fd);
    if (it == connections_.end() || it->second->busy) return;
    loop_.remove(it->second->id);
    connections_.erase(it);
}

}  // namespace gaffer::init
