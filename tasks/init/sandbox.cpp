#include "tasks/init/detail/sandbox.hpp"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tasks/init/detail/mounts.hpp"

namespace gaffer::init {
namespace {

using mounts::Access;

// Where the host's root stays reachable while the new root is built.
constexpr const char* kOldRoot = "/.oldroot";
// The staging mountpoint for the new root's tmpfs, in the (private) copy of the host tree.
// After pivot_root the tmpfs has left it, so the host's /tmp is visible again under kOldRoot.
constexpr const char* kStaging = "/tmp";

constexpr const char* kTopLevel[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32",
                                     "etc", "opt", "var", "home", "srv", "root"};
struct Device {
    const char* name;
    unsigned major, minor;  // fixed by the kernel ABI (Documentation/admin-guide/devices.txt)
};
constexpr Device kDevices[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                               {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
constexpr unsigned long kPlain = MS_NOSUID | MS_NODEV;
constexpr std::uint64_t kDefaultTmpBytes = 64ull << 20;

#define GAFFER_TRY(expr)                                          \
    do {                                                          \
        auto gaffer_r_ = (expr);                                  \
        if (!gaffer_r_) return tl::unexpected(gaffer_r_.error()); \
    } while (0)

base::Result<void> enter_new_root() {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return base::fail_errno(base::Errc::io, "make mounts private", errno);
    GAFFER_TRY(mounts::tmpfs(kStaging, "mode=0755,size=1m,nr_inodes=4096", kPlain));
    std::string put_old = std::string(kStaging) + kOldRoot;
    // Mode 0: not even a uid-0 task without capabilities can look inside before the old
    // root is detached.
    if (::mkdir(put_old.c_str(), 0) != 0)
        return base::fail_errno(base::Errc::io, "mkdir " + put_old, errno);
    if (::syscall(SYS_pivot_root, kStaging, put_old.c_str()) != 0)
        return base::fail_errno(base::Errc::io, "pivot_root into the new root", errno);
    if (::chdir("/") != 0) return base::fail_errno(base::Errc::io, "chdir /", errno);
    return {};
}

base::Result<void> bind_host_tree() {
    for (const char* name : kTopLevel) {
        std::string target = std::string("/") + name;
        std::string source = host_path(target);
        struct stat st {};
        if (::lstat(source.c_str(), &st) != 0) continue;  // not on this host
        if (S_ISLNK(st.st_mode)) {
            char link[4096];
            ssize_t n = ::readlink(source.c_str(), link, sizeof link - 1);
            if (n < 0) return base::fail_errno(base::Errc::io, "readlink " + source, errno);
            link[n] = '\0';
            if (::symlink(link, target.c_str()) != 0)
                return base::fail_errno(base::Errc::io, "symlink " + target, errno);
        } else if (S_ISDIR(st.st_mode)) {
            if (::mkdir(target.c_str(), 0755) != 0)
                return base::fail_errno(base::Errc::io, "mkdir " + target, errno);
            GAFFER_TRY(mounts::bind(source, target, Access::read_only, false));
        }
    }
    GAFFER_TRY(mounts::make_dirs("/sys", 0555));
    return mounts::bind(host_path("/sys"), "/sys", Access::read_only, false);
}

// /dev is the one tmpfs without nodev: its device nodes are made with mknod, which costs a
// fraction of a bind mount (and of its unmount when the environment ends). Where mknod is
// refused (no CAP_MKNOD, e.g. in a container) the host's node is bound instead. /dev is
// read-only before the task starts, so the task cannot add nodes to it.
base::Result<void> build_dev() {
    GAFFER_TRY(mounts::make_dirs("/dev", 0755));
    GAFFER_TRY(mounts::tmpfs("/dev", "mode=0755,size=64k,nr_inodes=256", MS_NOSUID | MS_NOEXEC));
    for (const auto& dev : kDevices) {
        std::string target = std::string("/dev/") + dev.name;
        if (::mknod(target.c_str(), S_IFCHR | 0666, makedev(dev.major, dev.minor)) == 0) {
            // mknod applies the umask; the nodes must be usable by every task user.
            if (::chmod(target.c_str(), 0666) != 0)
                return base::fail_errno(base::Errc::io, "chmod " + target, errno);
            continue;
        }
        if (errno != EPERM) return base::fail_errno(base::Errc::io, "mknod " + target, errno);
        GAFFER_TRY(mounts::make_file(target));
        GAFFER_TRY(mounts::bind(host_path(target), target, Access::writable, true));
    }
    const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "/dev/fd"},
                                                         {"/proc/self/fd/0", "/dev/stdin"},
                                                         {"/proc/self/fd/1", "/dev/stdout"},
                                                         {"/proc/self/fd/2", "/dev/stderr"}};
    for (auto [to, at] : links)
        if (::symlink(to, at) != 0) return base::fail_errno(base::Errc::io, std::string("symlink ") + at, errno);
    return mounts::make_dirs("/dev/shm", 01777);  // its tmpfs is sized for the task
}

base::Result<void> mount_resource(const runtime::LaunchSpec::Resource& res) {
    struct stat st {};
    const std::string source = host_path(res.source);
    if (::stat(source.c_str(), &st) != 0)
        return base::fail_errno(base::Errc::not_found, "resource " + res.source, errno);
    const bool is_device = S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode);
    if (res.device != is_device)
        return base::fail(base::Errc::invalid, "resource " + res.source + (res.device ? " is not a device node" : " is a device node; declare it as a device"));
    if (!is_device && !S_ISDIR(st.st_mode))
        return base::fail(base::Errc::invalid, "resource " + res.source + " is neither a directory nor a device node");
    const std::string parent = res.target.substr(0, std::max<std::size_t>(1, res.target.rfind('/')));
    if (is_device) {
        GAFFER_TRY(mounts::make_dirs(parent, 0755));
        struct stat existing {};
        if (::lstat(res.target.c_str(), &existing) != 0) GAFFER_TRY(mounts::make_file(res.target));
    } else {
        GAFFER_TRY(mounts::make_dirs(res.target, 0755));
    }
    return mounts::bind(source, res.target, res.writable ? Access::writable : Access::read_only, is_device);
}

base::Result<void> hide(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return {};  // not visible in the new root anyway
    if (S_ISDIR(st.st_mode))
        return mounts::tmpfs(path, "mode=0555,size=4k,nr_inodes=2", MS_RDONLY | kPlain | MS_NOEXEC);
    if (S_ISLNK(st.st_mode)) return {};  // its target is hidden or bound separately
    return mounts::bind(host_path("/dev/null"), path, Access::read_only, false);
}

std::string size_option(std::uint64_t memory_bytes) {
    std::uint64_t bytes = kDefaultTmpBytes;
    if (memory_bytes != 0) bytes = std::min(bytes, memory_bytes);
    return "size=" + std::to_string(bytes);
}

}  // namespace

std::string host_path(const std::string& path) { return std::string(kOldRoot) + path; }

base::Result<void> prepare_root() {
    GAFFER_TRY(enter_new_root());
    GAFFER_TRY(bind_host_tree());
    GAFFER_TRY(mounts::make_dirs("/proc", 0555));
    if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        return base::fail_errno(base::Errc::io, "mount /proc", errno);
    GAFFER_TRY(build_dev());
    GAFFER_TRY(mounts::make_dirs("/tmp", 01777));
    GAFFER_TRY(mounts::make_dirs("/run", 0755));
    GAFFER_TRY(mounts::tmpfs("/run", "mode=0755,size=1m", kPlain | MS_NOEXEC));
    return mounts::make_dirs("/task", 0755);
}

base::Result<void> finish_root(const runtime::LaunchSpec& spec) {
    const std::string tmp_options = "mode=1777," + size_option(spec.memory_bytes);
    GAFFER_TRY(mounts::tmpfs("/dev/shm", tmp_options, kPlain));
    GAFFER_TRY(mounts::tmpfs("/tmp", tmp_options, kPlain));
    if (!spec.artifact_dir.empty())
        GAFFER_TRY(mounts::bind(host_path(spec.artifact_dir), "/task", Access::read_only, false));
    for (const auto& res : spec.resources) GAFFER_TRY(mount_resource(res));
    for (const auto& path : spec.hidden_paths) GAFFER_TRY(hide(path));

    GAFFER_TRY(mounts::remount_read_only("/dev", MS_NOSUID | MS_NOEXEC));
    GAFFER_TRY(mounts::remount_read_only("/", kPlain));
    return {};
}

base::Result<void> detach_old_root() {
    if (::umount2(kOldRoot, MNT_DETACH) != 0)
        return base::fail_errno(base::Errc::io, std::string("detach the old root ") + kOldRoot, errno);
    return {};
}

base::Result<void> set_hostname(const std::string& name) {
    if (::sethostname(name.data(), name.size()) != 0)
        return base::fail_errno(base::Errc::io, "sethostname " + name, errno);
    return {};
}

base::Result<void> bring_up_loopback() {
    base::Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) return base::fail_errno(base::Errc::io, "socket for lo", errno);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0)
        return base::fail_errno(base::Errc::io, "SIOCGIFFLAGS lo", errno);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0)
        return base::fail_errno(base::Errc::io, "SIOCSIFFLAGS lo up", errno);
    return {};
}

}  // namespace gaffer::init
