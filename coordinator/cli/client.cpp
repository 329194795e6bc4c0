#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "coordinator/cli/cli.hpp"

namespace gaffer::cli {
namespace {

// The daemon may answer and close before reading everything (403, 413): a failed write is
// not yet an error if a response can still be read.
bool send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

base::Result<http::Response> call(const std::string& socket_path, http::Request request) {
    auto fd = base::connect_unix(socket_path);
    if (!fd) {
        auto error = fd.error();
        if (error.code == base::Errc::unavailable)
            error.message = "cannot reach gafferd at " + socket_path + " (is it running?)" +
                            error.message.substr(("connect " + socket_path).size());
        return tl::unexpected(std::move(error));
    }
    request.keep_alive = false;
    const bool sent = send_all(fd->get(), http::serialize(request));
    const int send_errno = errno;

    // Invocation responses can be as large as a task's payload; logs are capped by the API.
    http::ResponseParser parser(http::Limits{64 * 1024, 64u << 20});
    char buf[65536];
    while (true) {
        if (auto response = parser.next()) return std::move(*response);
        const ssize_t n = ::read(fd->get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return base::fail_errno(base::Errc::io, "reading from gafferd", errno);
        if (n == 0) {
            if (auto finished = parser.finish(); !finished) {
                return base::fail(base::Errc::io,
                                  "gafferd closed the connection: " + finished.error().message);
            }
            if (auto response = parser.next()) return std::move(*response);
            if (!sent) return base::fail_errno(base::Errc::io, "sending to gafferd", send_errno);
            return base::fail(base::Errc::io, "gafferd closed the connection without an answer");
        }
        if (auto fed = parser.feed(std::string_view(buf, static_cast<std::size_t>(n))); !fed) {
            return base::fail(base::Errc::invalid, "gafferd's answer is not HTTP: " + fed.error().message);
        }
    }
}

}  // namespace gaffer::cli
