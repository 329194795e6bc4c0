// Private to coordinator/loop: the uv state behind a Stream, shared with Listener, which
// accepts connections into it.
#pragma once

#include <uv.h>

#include "coordinator/loop/loop.hpp"

namespace gaffer::loop {

struct Stream::Impl {
    uv_pipe_t handle{};
    OnData on_data;
    OnClose on_close;
    bool closing = false;
    std::size_t queued = 0;
    // The owning Stream's impl_, cleared when this is freed: a close the stream did not
    // ask for (EOF, a read or write error) must not leave the Stream pointing at freed memory.
    Stream::Impl** owner = nullptr;
    char buffer[64 * 1024];
};

}  // namespace gaffer::loop
