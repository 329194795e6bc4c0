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

namespace {
// Room for what waiting processes touch before they move into their environments' cgroups
// (mostly the launch frame they read there).
constexpr std::uint64_t kPoolMemoryPerProcess = 32ull << 20;
}  // namespace

base::Result<InitProcess> SpawnLauncher::launch(bool pooled) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return base::fail_errno(base::Errc::io, "socketpair for gaffer-init", errno);
    base::Fd ours(fds[0]), theirs(fds[1]);

    loop::Process::Options options;
    options.argv = {init_path_};
    if (pooled)
        for (const auto& file : pool_procs_files_) {
            options.argv.emplace_back("--pool-cgroup");
            options.argv.push_back(file);
        }
    options.extra_fds = {theirs.get()};  // becomes fd 3 in gaffer-init
    InitProcess init;
    auto process = loop::Process::spawn(loop_, options, [route = init.exit_route](std::int64_t status, int signal) {
        auto fn = route->fn;  // a copy: the callee may reset the route
        if (fn) fn(status, signal);
    });
    if (!process) return base::fail(base::Errc::io, "cannot start " + init_path_ + ": " + process.error().message);
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
}

WarmPool::WarmPool(loop::Loop& loop, const CgroupTree& tree, const std::string& parent, bool use_libcgroup,
                   const std::string& init_path, std::size_t size, std::function<void(std::string_view)> on_warning)
    : on_warning_(std::move(on_warning)) {
    size = std::min(size, kMaxInitPool);
    if (size > 0) {
        base::Result<void> ok = watch_mounts(loop);
        if (ok) ok = open_cgroup(tree, parent, use_libcgroup, size);
        if (!ok) {
            if (on_warning_) on_warning_("warm pool disabled: " + ok.error().message);
            size = 0;
            mount_watch_.reset();
        }
    }
    launcher_ = std::make_unique<SpawnLauncher>(loop, init_path,
                                                cgroup_ ? cgroup_->procs_files() : std::vector<std::string>{});
    InitPoolOptions options;
    options.size = size;
    options.on_warning = on_warning_;
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

base::Result<void> WarmPool::open_cgroup(const CgroupTree& tree, const std::string& parent, bool use_libcgroup,
                                         std::size_t size) {
    auto made = CgroupTree::open(tree.layout(), {pool_parent(parent), use_libcgroup});
    if (!made) return tl::unexpected(made.error());
    tree_ = std::move(*made);
    if (auto stale = tree_->cleanup_stale(); !stale) return tl::unexpected(stale.error());
    auto group = tree_->create("waiting", CgroupLimits{kPoolMemoryPerProcess * (size + 1), 0, 0});
    if (!group) return tl::unexpected(group.error());
    cgroup_ = std::move(*group);
    return {};
}

WarmPool::~WarmPool() {
    mount_watch_.reset();
    pool_.reset();
    if (cgroup_)
        if (auto ok = cgroup_->remove(); !ok && on_warning_) on_warning_("warm pool cgroup: " + ok.error().message);
    // <parent>.pool is gafferd's own by name, even when a crashed daemon left it: removed
    // whoever made it (best effort: empty by now).
    if (tree_)
        for (const auto& dir : tree_->parent_dirs()) ::rmdir(dir.c_str());
}

}  // namespace gaffer::environment::detail
