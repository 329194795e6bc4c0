#include "base.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace gaffer::base {

std::string_view errc_name(Errc code) {
    switch (code) {
        case Errc::invalid: return "invalid";
        case Errc::not_found: return "not_found";
        case Errc::conflict: return "conflict";
        case Errc::busy: return "busy";
        case Errc::retry: return "retry";
        case Errc::timeout: return "timeout";
        case Errc::unavailable: return "unavailable";
        case Errc::denied: return "denied";
        case Errc::io: return "io";
    }
    return "unknown";
}

tl::unexpected<Error> fail_errno(Errc code, std::string what, int errno_value) {
    what += ": ";
    what += std::strerror(errno_value);
    return fail(code, std::move(what));
}

void Fd::reset(int fd) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

std::int64_t wall_epoch_millis() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {
std::atomic<LogLevel> g_level{LogLevel::info};

const char* level_tag(LogLevel level) {
    switch (level) {
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warning: return "warning";
        case LogLevel::error: return "error";
    }
    return "?";
}
}  // namespace

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }

LogLevel parse_log_level(std::string_view name, LogLevel fallback) {
    if (name == "debug") return LogLevel::debug;
    if (name == "info") return LogLevel::info;
    if (name == "warning") return LogLevel::warning;
    if (name == "error") return LogLevel::error;
    return fallback;
}

void log(LogLevel level, std::string_view message) {
    if (level < g_level.load()) return;
    // One write per line so that lines from several processes do not interleave.
    std::string line;
    line.reserve(message.size() + 40);
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    line += stamp;
    line += ' ';
    line += level_tag(level);
    line += ": ";
    line += message;
    line += '\n';
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

Result<Fd> connect_unix(const std::string& path) {
    sockaddr_un addr{};
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        return fail(Errc::invalid, "socket path '" + path + "' is empty or too long");
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return fail_errno(Errc::io, "socket", errno);
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return fail_errno(Errc::unavailable, "connect " + path, errno);
    return fd;
}

Result<std::string> read_file(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno(errno == ENOENT ? Errc::not_found : Errc::io, "open " + path, errno);
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_errno(Errc::io, "read " + path, errno);
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

Result<void> write_file(const std::string& path, std::string_view content, int mode) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) return fail_errno(Errc::io, "open " + path, errno);
    while (!content.empty()) {
        ssize_t n = ::write(fd.get(), content.data(), content.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_errno(Errc::io, "write " + path, errno);
        }
        content.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

}  // namespace gaffer::base
