// The control channel to gafferd (fd 3): frames in, frames out. Reading is non-blocking
// except for the launch frame; writing blocks until the whole frame is out, since gafferd
// always reads its end and results must not be dropped.
#pragma once

#include "coordinator/base/base.hpp"
#include "tasks/runtime/runtime.hpp"

namespace gaffer::init {

class Control {
public:
    explicit Control(base::Fd fd) : fd_(std::move(fd)) {}

    int fd() const { return fd_.get(); }

    // Blocks until the first frame arrives; it must be `launch`.
    base::Result<runtime::Frame> read_launch();

    // Reads what is available without blocking. Errc::unavailable on EOF (gafferd is gone),
    // Errc::invalid on a malformed frame.
    base::Result<void> read_available();
    std::optional<runtime::Frame> next() { return decoder_.next(); }

    // Errors are ignored on purpose: a failed write means gafferd is gone, which the next
    // read reports as EOF.
    void send(const runtime::Frame& frame);
    void send(runtime::FrameType type, std::string header, std::string payload = {});
    void log(std::string_view level, std::string_view line);

private:
    base::Fd fd_;
    runtime::Decoder decoder_;
    std::string out_;
};

}  // namespace gaffer::init
