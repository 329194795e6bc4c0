// PID 1 of the environment after the filesystem is built: starts the task, serves it the
// runtime API (the Lambda one for lambda tasks, the device services for all), runs one
// process per invocation (process, on-demand), relays results and service requests to
// gafferd, enforces deadlines, forwards signals, reaps every zombie, and ends the
// environment (kill(-1, SIGKILL), `exited`, exit) when the task dies, an invocation times
// out, gafferd asks for shutdown or goes away. Single-threaded, on one EventLoop.
#pragma once

#include <sys/types.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "coordinator/base/base.hpp"
#include "tasks/init/detail/api_server.hpp"
#include "tasks/init/detail/control.hpp"
#include "tasks/init/detail/event_loop.hpp"
#include "tasks/init/detail/log_sink.hpp"
#include "tasks/init/detail/spawn.hpp"

namespace gaffer::init {

class Supervisor {
public:
    // The signals gaffer-init takes through its signalfd (blocked before fork by main).
    static sigset_t handled_signals();

    Supervisor(const runtime::LaunchSpec& spec, Control& control, LogSink log, EventLoop loop)
        : spec_(spec), control_(control), log_(std::move(log)), loop_(std::move(loop)) {}

    // Never returns: the process exits when the environment ends.
    [[noreturn]] void run();

private:
    struct Pending {
        runtime::Invocation invocation;
        bool started = false;
    };
    // One child process with its output pipes.
    struct Child {
        pid_t pid = -1;
        base::Fd stdin_w, out, err;
        EventLoop::Id stdin_id = 0, out_id = 0, err_id = 0;
        LineSplitter out_lines, err_lines;
        std::string event;           // process interface: stdin still to write
        std::size_t event_sent = 0;
        std::string captured;        // process interface: stdout, the response
        std::string stderr_tail;     // process interface: last bytes of stderr for `detail`
        bool overflow = false;
    };

    // supervisor.cpp: the loop, control frames, signals, timers, ending.
    base::Result<void> setup();
    void on_control();
    void on_frame(runtime::Frame frame);
    void on_invoke(const runtime::Frame& frame);
    void on_shutdown(const runtime::Frame& frame);
    void on_signal();
    void reap();
    void arm(base::Fd& timer, std::int64_t millis);
    void on_deadline();
    void protocol_error(const std::string& message);
    void result(const std::string& id, std::string_view status, const std::string& detail, std::string payload);
    void fail_queue(std::string_view status, const std::string& detail);
    [[noreturn]] void finish(std::string_view reason, int code, int signal, const std::string& detail, int exit_code);
    [[noreturn]] void finish_with_status(int status, const std::string& context);

    // supervisor_task.cpp: starting processes, pipes, the two interfaces.
    base::Result<void> start_task();
    base::Result<void> watch(Child& child);
    void read_pipe(Child& child, bool is_stdout);
    void write_stdin(Child& child);
    void drain(Child& child);
    void begin_front();
    void on_api_frame(runtime::Frame frame);
    void on_main_exit(int status);
    void on_invocation_exit(int status);
    Child* running_child();

    const runtime::LaunchSpec& spec_;
    Control& control_;
    LogSink log_;
    EventLoop loop_;
    base::Fd signals_, deadline_, grace_;
    std::optional<ExecPlan> plan_;
    std::unique_ptr<ApiServer> api_;
    Child main_;        // lambda, or a long-lived process
    std::unique_ptr<Child> invocation_;  // process interface, on-demand
    std::deque<Pending> queue_;
    bool ready_sent_ = false;
    bool stopping_ = false;
    std::int64_t front_timeout_ms_ = 0;
};

// "exited with status 3" / "killed by signal 9"
std::string describe_status(int status);

// `spec` with GAFFER_RUNTIME_API=127.0.0.1:<port> in its environment (replacing one the
// task set itself): every task's address of the device services.
runtime::LaunchSpec with_service_address(const runtime::LaunchSpec& spec, std::uint16_t port);

}  // namespace gaffer::init
