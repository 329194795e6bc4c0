// gaffer::loop — the libuv adapter: one loop thread owns all state. RAII handles that
// close through uv_close and free their memory only in the close callback.
//
// Threading: everything here is loop-thread only, except Loop::post(), the one
// thread-safe call (it wraps uv_async_send; several posts may coalesce, so every
// wake-up drains the whole mailbox).
//
// Lifetimes: destroying a handle object closes the uv handle; callbacks never run after
// the object is gone. Callbacks may destroy the object that called them.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/base.hpp"

struct uv_loop_s;

namespace gaffer::loop {

class Loop {
public:
    Loop();
    ~Loop();  // runs the loop until every handle has closed
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    void run();   // until stop()
    void stop();  // loop thread only; run() returns after the current iteration
    void post(std::function<void()> fn);  // thread-safe
    uv_loop_s* raw();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

class Timer {
public:
    explicit Timer(Loop& loop);
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;
    // (Re)arms; repeat 0 means once.
    void start(base::Duration after, std::function<void()> fire, base::Duration repeat = {});
    void stop();

private:
    struct Impl;
    Impl* impl_;  // freed in the close callback
};

// Runs `fn` on the loop thread whenever `signum` arrives.
class SignalWatch {
public:
    SignalWatch(Loop& loop, int signum, std::function<void()> fn);
    ~SignalWatch();
    SignalWatch(const SignalWatch&) = delete;
    SignalWatch& operator=(const SignalWatch&) = delete;

private:
    struct Impl;
    Impl* impl_;
};

// Runs `fn` on the loop thread whenever `fd` reports an exceptional condition (POLLPRI):
// /proc/self/mountinfo does when the mount table changes. The caller keeps `fd` open.
class PriorityWatch {
public:
    PriorityWatch(Loop& loop, int fd, std::function<void()> fn);
    ~PriorityWatch();
    bool active() const;  // false: epoll cannot watch `fd`; `fn` never runs
    PriorityWatch(const PriorityWatch&) = delete;
    PriorityWatch& operator=(const PriorityWatch&) = delete;

private:
    struct Impl;
    Impl* impl_;
};

struct PeerCredentials {
    pid_t pid = -1;
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
};

// A byte stream over a connected Unix socket or socketpair end.
class Stream {
public:
    using OnData = std::function<void(std::string_view bytes)>;
    using OnClose = std::function<void(base::Error reason)>;  // EOF is Errc::unavailable

    // Takes ownership of a connected socket fd (made non-blocking here).
    static base::Result<std::unique_ptr<Stream>> adopt(Loop& loop, base::Fd fd);
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    // Starts reading; on_close runs once at EOF or error, never after the Stream is gone.
    void start(OnData on_data, OnClose on_close);
    // Queues bytes; they are copied. Returns false once the stream is closed.
    bool write(std::string bytes);
    std::size_t write_queue_bytes() const;  // bytes queued and not yet written
    PeerCredentials peer() const;          // SO_PEERCRED of the other end
    void close();                           // stops reading; pending writes are dropped

    struct Impl;  // opaque; defined in the .cpp

private:
    friend class Listener;
    Stream() = default;
    Impl* impl_ = nullptr;
};

// A listening Unix socket at `path` (an old socket file is replaced), mode as given.
class Listener {
public:
    using OnAccept = std::function<void(std::unique_ptr<Stream>)>;
    static base::Result<std::unique_ptr<Listener>> listen(Loop& loop, const std::string& path,
                                                          int mode, OnAccept on_accept);
    ~Listener();  // closes and unlinks the socket file
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

private:
    Listener() = default;
    struct Impl;
    Impl* impl_ = nullptr;
};

// A child process started with uv_spawn. libuv reaps it; on_exit runs once.
class Process {
public:
    struct Options {
        std::vector<std::string> argv;       // argv[0] is the program path
        std::vector<std::string> env;        // "K=V"; empty: inherit the daemon's
        std::vector<int> extra_fds;          // become fds 3, 4, ... in the child
        int stdout_fd = -1;                  // -1: /dev/null
        int stderr_fd = -1;                  // -1: inherit the daemon's stderr
    };
    using OnExit = std::function<void(std::int64_t exit_status, int term_signal)>;

    static base::Result<std::unique_ptr<Process>> spawn(Loop& loop, const Options& options,
                                                        OnExit on_exit);
    ~Process();  // does not kill; the exit callback is simply dropped
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const;
    base::Result<void> kill(int signum);

    struct Impl;  // opaque; defined in the .cpp

private:
    Process() = default;
    Impl* impl_ = nullptr;
};

}  // namespace gaffer::loop
