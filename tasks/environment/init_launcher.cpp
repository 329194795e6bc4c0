#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "coordinator/loop/loop.hpp"
#include "tasks/environment/detail/init_pool.hpp"

namespace gaffer::environment::detail {

base::Result<InitProcess> SpawnLauncher::launch(bool pooled) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return base::fail_errno(base::Errc::io, "socketpair for gaffer-init", errno);
    base::Fd ours(fds[0]), theirs(fds[1]);

    InitProcess init;
    loop::Process::Options options;
    options.argv = {init_path_};
    if (pooled) {
        init.env_id = reserve_id_();
        auto group = tree_.create(cgroup_name(init.env_id), kWaitingLimits);
        if (!group) return tl::unexpected(group.error());
        for (const auto& file : group->procs_files()) {
            options.argv.emplace_back("--pool-cgroup");
            options.argv.push_back(file);
        }
        init.cgroup = std::move(*group);
    }
    options.extra_fds = {theirs.get()};  // becomes fd 3 in gaffer-init
    auto process = loop::Process::spawn(loop_, options, [route = init.exit_route](std::int64_t status, int signal) {
        auto fn = route->fn;  // a copy: the callee may reset the route
        if (fn) fn(status, signal);
    });
    if (!process) {
        if (init.cgroup) (void)init.cgroup->remove();
        return base::fail(base::Errc::io, "cannot start " + init_path_ + ": " + process.error().message);
    }
    init.pid = (*process)->pid();
    init.process = std::move(*process);
    theirs.reset();
    auto stream = loop::Stream::adopt(loop_, std::move(ours));
    if (!stream) {
        kill(init);
        return tl::unexpected(stream.error());
    }
    init.stream = std::move(*stream);
    return init;
}

bool SpawnLauncher::has_exited(const InitProcess& init) {
    // WNOWAIT: look without reaping; libuv reaps its own children.
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(init.pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return true;
    return info.si_pid != 0;
}

void SpawnLauncher::kill(InitProcess& init) {
    if (init.process) (void)init.process->kill(SIGKILL);
    init.stream.reset();
    // Kills PID 1 too, without waiting for PR_SET_PDEATHSIG.
    if (init.cgroup)
        if (auto ok = init.cgroup->remove(); !ok && on_warning_)
            on_warning_("warm pool: cannot remove a waiting process's cgroup: " + ok.error().message);
    init.cgroup.reset();
}

WarmPool::WarmPool(loop::Loop& loop, CgroupTree& tree, std::function<scheduler::EnvId()> reserve_id,
                   const std::string& init_path, std::size_t size, std::function<void(std::string_view)> on_warning) {
    size = std::min(size, kMaxInitPool);
    if (size > 0) {
        if (auto ok = watch_mounts(loop); !ok) {
            if (on_warning) on_warning("warm pool disabled: " + ok.error().message);
            size = 0;
            mount_watch_.reset();
        }
    }
    launcher_ = std::make_unique<SpawnLauncher>(loop, init_path, tree, std::move(reserve_id), on_warning);
    InitPoolOptions options;
    options.size = size;
    options.on_warning = std::move(on_warning);
    pool_ = std::make_unique<InitPool>(loop, *launcher_, std::move(options));
}

base::Result<void> WarmPool::watch_mounts(loop::Loop& loop) {
    mountinfo_.reset(::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
    if (!mountinfo_) return base::fail_errno(base::Errc::io, "open /proc/self/mountinfo", errno);
    mount_watch_ = std::make_unique<loop::PriorityWatch>(loop, mountinfo_.get(), [this] {
        if (pool_) pool_->flush();
    });
    if (!mount_watch_->active()) return base::fail(base::Errc::io, "cannot watch /proc/self/mountinfo for mount changes");
    return {};
}

WarmPool::~WarmPool() {
    mount_watch_.reset();
    pool_.reset();
}

}  // namespace gaffer::environment::detail
