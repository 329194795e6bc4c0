#include <uv.h>

#include <csignal>

#include "coordinator/loop/loop.hpp"

namespace gaffer::loop {

struct Process::Impl {
    uv_process_t handle{};
    OnExit on_exit;
    bool exited = false;
    bool owner_gone = false;
};

namespace {
void free_process(uv_handle_t* h) { delete static_cast<Process::Impl*>(h->data); }
}  // namespace

base::Result<std::unique_ptr<Process>> Process::spawn(Loop& loop, const Options& options,
                                                      OnExit on_exit) {
    if (options.argv.empty()) return base::fail(base::Errc::invalid, "spawn: empty argv");
    std::vector<char*> argv;
    for (auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> env;
    for (auto& e : options.env) env.push_back(const_cast<char*>(e.c_str()));
    env.push_back(nullptr);

    std::vector<uv_stdio_container_t> stdio(3 + options.extra_fds.size());
    stdio[0].flags = UV_IGNORE;  // /dev/null
    if (options.stdout_fd >= 0) {
        stdio[1].flags = UV_INHERIT_FD;
        stdio[1].data.fd = options.stdout_fd;
    } else {
        stdio[1].flags = UV_IGNORE;
    }
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = options.stderr_fd >= 0 ? options.stderr_fd : 2;
    for (size_t i = 0; i < options.extra_fds.size(); ++i) {
        stdio[3 + i].flags = UV_INHERIT_FD;
        stdio[3 + i].data.fd = options.extra_fds[i];
    }

    auto* impl = new Impl;
    impl->on_exit = std::move(on_exit);
    impl->handle.data = impl;
    uv_process_options_t opts{};
    opts.file = argv[0];
    opts.args = argv.data();
    opts.env = options.env.empty() ? nullptr : env.data();
    opts.stdio_count = static_cast<int>(stdio.size());
    opts.stdio = stdio.data();
    opts.exit_cb = [](uv_process_t* h, int64_t status, int signal) {
        auto* impl = static_cast<Impl*>(h->data);
        impl->exited = true;
        auto on_exit = std::move(impl->on_exit);
        bool owner_gone = impl->owner_gone;
        if (owner_gone) {
            uv_close(reinterpret_cast<uv_handle_t*>(h), free_process);
            return;
        }
        if (on_exit) on_exit(status, signal);  // may destroy the Process
    };
    int rc = uv_spawn(loop.raw(), &impl->handle, &opts);
    if (rc != 0) {
        uv_close(reinterpret_cast<uv_handle_t*>(&impl->handle), free_process);
        return base::fail(base::Errc::io, "spawn " + options.argv[0] + ": " + uv_strerror(rc));
    }
    std::unique_ptr<Process> process(new Process);
    process->impl_ = impl;
    return process;
}

Process::~Process() {
    // Closing a running process handle would stop libuv from reaping it and leave a
    // zombie: keep watching until it exits, then close.
    if (impl_->exited) {
        uv_close(reinterpret_cast<uv_handle_t*>(&impl_->handle), free_process);
    } else {
        impl_->owner_gone = true;
        impl_->on_exit = nullptr;
    }
}

pid_t Process::pid() const { return impl_->handle.pid; }

base::Result<void> Process::kill(int signum) {
    if (impl_->exited) return base::fail(base::Errc::not_found, "process has exited");
    int rc = uv_process_kill(&impl_->handle, signum);
    if (rc != 0) return base::fail(base::Errc::io, std::string("kill: ") + uv_strerror(rc));
    return {};
}

}  // namespace gaffer::loop
