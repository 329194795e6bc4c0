#include "tasks/init/detail/control.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>

namespace gaffer::init {

base::Result<runtime::Frame> Control::read_launch() {
    // Static, not on the stack: with -fstack-clash-protection a 64 KiB frame is probed page
    // by page, 16 page faults on every first use in a fresh process. gaffer-init is single
    // threaded and this is not re-entered while the bytes are in use.
    static char buf[16 * 1024];
    for (;;) {
        if (auto frame = decoder_.next()) {
            if (frame->type != runtime::FrameType::launch)
                return base::fail(base::Errc::invalid, "control channel: the first frame must be launch, got type " +
                                                           std::to_string(static_cast<int>(frame->type)));
            return std::move(*frame);
        }
        ssize_t n = ::read(fd_.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return base::fail_errno(base::Errc::io, "control channel: read fd 3", errno);
        if (n == 0) return base::fail(base::Errc::unavailable, "control channel: EOF before the launch frame");
        if (auto r = decoder_.feed(std::string_view(buf, static_cast<std::size_t>(n))); !r)
            return tl::unexpected(r.error());
    }
}

base::Result<void> Control::read_available() {
    static char buf[64 * 1024];  // static: see read_launch
    for (;;) {
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
            return base::fail_errno(base::Errc::unavailable, "control channel: read", errno);
        }
        if (n == 0) return base::fail(base::Errc::unavailable, "control channel: gafferd closed its end");
        if (auto r = decoder_.feed(std::string_view(buf, static_cast<std::size_t>(n))); !r)
            return r;
        if (static_cast<std::size_t>(n) < sizeof buf) return {};
    }
}

void Control::send(const runtime::Frame& frame) {
    out_.clear();
    runtime::encode(frame, out_);
    std::string_view rest = out_;
    while (!rest.empty()) {
        ssize_t n = ::send(fd_.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    // Do not keep a 6 MB buffer around after a large result.
    if (out_.capacity() > (256u << 10)) std::string().swap(out_);
}

void Control::send(runtime::FrameType type, std::string header, std::string payload) {
    send(runtime::Frame{type, std::move(header), std::move(payload)});
}

void Control::log(std::string_view level, std::string_view line) {
    send(runtime::FrameType::log, nlohmann::json{{"level", level}}.dump(), std::string(line));
}

}  // namespace gaffer::init
