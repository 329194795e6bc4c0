#include "devices/mqtt/detail/nodelay.hpp"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <charconv>
#include <cstdlib>
#include <memory>

namespace gaffer::mqtt::detail {

int uri_port(const std::string& uri) {
    auto colon = uri.rfind(':');
    if (colon == std::string::npos) return 0;
    int port = 0;
    auto end = uri.data() + uri.size();
    auto [next, error] = std::from_chars(uri.data() + colon + 1, end, port);
    if (error != std::errc() || next != end || port <= 0 || port > 65535) return 0;
    return port;
}

int disable_nagle_towards(int port) {
    if (port <= 0) return 0;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc/self/fd"), ::closedir);
    if (!dir) return 0;
    int set = 0;
    int own = ::dirfd(dir.get());
    while (dirent* entry = ::readdir(dir.get())) {
        char* end = nullptr;
        long fd = std::strtol(entry->d_name, &end, 10);
        if (*end != '\0' || fd < 3 || fd == own) continue;
        int type = 0;
        socklen_t length = sizeof type;
        if (::getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_TYPE, &type, &length) != 0 ||
            type != SOCK_STREAM)
            continue;
        sockaddr_storage peer{};
        length = sizeof peer;
        if (::getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &length) != 0)
            continue;
        int peer_port = 0;
        if (peer.ss_family == AF_INET)
            peer_port = ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port);
        else if (peer.ss_family == AF_INET6)
            peer_port = ntohs(reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port);
        if (peer_port != port) continue;
        int one = 1;
        if (::setsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0) ++set;
    }
    return set;
}

}  // namespace gaffer::mqtt::detail
