#include "tasks/init/detail/mounts.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace gaffer::init::mounts {
namespace {

// Returns false when the kernel has no mount_setattr (before 5.12).
bool set_recursive_attrs(const std::string& target, std::uint64_t attrs, int& error) {
#ifdef SYS_mount_setattr
    struct mount_attr attr {};
    attr.attr_set = attrs;
    if (::syscall(SYS_mount_setattr, AT_FDCWD, target.c_str(), AT_RECURSIVE, &attr, sizeof attr) == 0)
        return true;
    error = errno;
    return error != ENOSYS;
#else
    (void)target;
    (void)attrs;
    error = ENOSYS;
    return false;
#endif
}

}  // namespace

base::Result<void> bind(const std::string& source, const std::string& target, Access access,
                        bool allow_devices) {
    if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        return base::fail_errno(base::Errc::io, "bind " + source + " on " + target, errno);
    std::uint64_t attrs = MOUNT_ATTR_NOSUID;
    if (!allow_devices) attrs |= MOUNT_ATTR_NODEV;
    if (access == Access::read_only) attrs |= MOUNT_ATTR_RDONLY;
    int error = 0;
    if (set_recursive_attrs(target, attrs, error)) {
        if (error != 0)
            return base::fail_errno(base::Errc::io, "mount_setattr " + target, error);
        return {};
    }
    // Old kernel: a bind remount changes the top mount only.
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID;
    if (!allow_devices) flags |= MS_NODEV;
    if (access == Access::read_only) flags |= MS_RDONLY;
    if (::mount(nullptr, target.c_str(), nullptr, flags, nullptr) != 0)
        return base::fail_errno(base::Errc::io, "remount " + target, errno);
    return {};
}

base::Result<void> tmpfs(const std::string& target, const std::string& options,
                         unsigned long flags) {
    if (::mount("tmpfs", target.c_str(), "tmpfs", flags, options.c_str()) != 0)
        return base::fail_errno(base::Errc::io, "mount tmpfs on " + target + " (" + options + ")", errno);
    return {};
}

base::Result<void> remount_read_only(const std::string& target, unsigned long keep_flags) {
    if (::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | keep_flags,
                nullptr) != 0)
        return base::fail_errno(base::Errc::io, "remount " + target + " read-only", errno);
    return {};
}

base::Result<void> make_dirs(const std::string& path, mode_t mode) {
    for (std::size_t pos = 1; pos <= path.size(); ++pos) {
        if (pos != path.size() && path[pos] != '/') continue;
        std::string part = path.substr(0, pos);
        if (::mkdir(part.c_str(), mode) == 0 || errno == EEXIST) continue;
        return base::fail_errno(base::Errc::io, "mkdir " + part, errno);
    }
    return {};
}

base::Result<void> make_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return base::fail_errno(base::Errc::io, "create mountpoint " + path, errno);
    ::close(fd);
    return {};
}

}  // namespace gaffer::init::mounts
