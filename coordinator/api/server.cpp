#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>

#include "coordinator/api/api.hpp"
#include "coordinator/api/detail/access.hpp"
#include "coordinator/api/detail/connection.hpp"
#include "coordinator/loop/loop.hpp"

namespace gaffer::api {

struct Server::Impl {
    Impl(loop::Loop& l, Backend& backend, ServerOptions o)
        : loop(l), options(std::move(o)), router(backend, options.router, options.devices),
          host{loop, router, options, [this](detail::Connection* c) { drop(c); }} {
        policy.daemon_uid = ::geteuid();
        policy.group = options.socket_group;
    }

    void accept(std::unique_ptr<loop::Stream> stream);
    void drop(detail::Connection* connection);

    loop::Loop& loop;
    ServerOptions options;
    Router router;
    detail::ConnectionHost host;
    detail::AccessPolicy policy;
    std::unique_ptr<loop::Listener> listener;
    std::map<detail::Connection*, std::shared_ptr<detail::Connection>> connections;
    std::size_t refusing = 0;  // connections answered 403/503 and waiting to close
};

void Server::Impl::accept(std::unique_ptr<loop::Stream> stream) {
    const loop::PeerCredentials peer = stream->peer();
    const bool allowed = detail::peer_allowed(peer, policy, detail::proc_supplementary_groups);
    const std::size_t serving = connections.size() - refusing;
    if ((!allowed || serving >= options.max_connections) && refusing >= options.max_connections) {
        return;  // refusals are bounded too: past that, close without an answer
    }
    auto connection = std::make_shared<detail::Connection>(host, std::move(stream));
    connections.emplace(connection.get(), connection);
    if (!allowed) {
        ++refusing;
        connection->refuse(error_response(
            403, "denied",
            "uid " + std::to_string(peer.uid) +
                " may not use the gaffer API (allowed: root, the daemon's user, the socket's group)"));
    } else if (serving >= options.max_connections) {
        ++refusing;
        connection->refuse(error_response(
            503, "unavailable",
            "too many API connections (limit " + std::to_string(options.max_connections) + ")"));
    } else {
        connection->start();
    }
}

void Server::Impl::drop(detail::Connection* connection) {
    auto it = connections.find(connection);
    if (it == connections.end()) return;
    if (connection->refused()) --refusing;
    connections.erase(it);
}

base::Result<std::unique_ptr<Server>> Server::start(loop::Loop& loop, Backend& backend,
                                                    ServerOptions options) {
    // sockaddr_un holds 108 bytes and libuv truncates a longer path silently.
    if (options.socket_path.empty() || options.socket_path.size() >= 108) {
        return base::fail(base::Errc::invalid,
                          "API socket path '" + options.socket_path + "' is empty or longer than 107 bytes");
    }
    std::unique_ptr<Server> server(new Server);
    server->impl_ = std::make_unique<Impl>(loop, backend, std::move(options));
    Impl* impl = server->impl_.get();
    auto listener = loop::Listener::listen(
        loop, impl->options.socket_path, impl->options.socket_mode,
        [impl](std::unique_ptr<loop::Stream> stream) { impl->accept(std::move(stream)); });
    if (!listener) return tl::unexpected<base::Error>(listener.error());
    impl->listener = std::move(*listener);
    if (impl->options.socket_group != static_cast<gid_t>(-1) &&
        ::chown(impl->options.socket_path.c_str(), ::geteuid(), impl->options.socket_group) != 0) {
        return base::fail_errno(base::Errc::io,
                                "chown " + impl->options.socket_path + " to group " +
                                    std::to_string(impl->options.socket_group),
                                errno);
    }
    return server;
}

Server::~Server() {
    if (!impl_) return;
    impl_->listener.reset();
    // Connections hold a reference to impl_->host; destroy them first.
    impl_->connections.clear();
}

std::size_t Server::connection_count() const { return impl_->connections.size() - impl_->refusing; }
const Router& Server::router() const { return impl_->router; }
void Server::set_device_backend(DeviceBackend* devices) { impl_->router.set_device_backend(devices); }

}  // namespace gaffer::api
