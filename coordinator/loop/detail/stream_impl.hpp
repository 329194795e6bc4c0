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
    char buffer[64 * 1024];
};

}  // namespace gaffer::loop
