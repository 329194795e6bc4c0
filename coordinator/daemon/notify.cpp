#include <sys/socket.h>
#include <sys/un.h>

#include <cstdlib>
#include <cstring>

#include "coordinator/daemon/daemon.hpp"

namespace gaffer::daemon {

// The sd_notify protocol is one datagram to $NOTIFY_SOCKET; writing it by hand keeps
// libsystemd out of the daemon, and without systemd (no variable) it is a no-op.
void notify_service_manager(std::string_view state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::size_t len = std::strlen(path);
    if (len >= sizeof addr.sun_path) return;
    std::memcpy(addr.sun_path, path, len);
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    base::Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return;
    ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
             static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
}

}  // namespace gaffer::daemon
