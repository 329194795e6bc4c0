#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "tasks/environment/environment.hpp"

namespace gaffer::environment {

base::Result<std::string> CgroupFs::read(const std::string& path) {
    return base::read_file(path);
}

base::Result<void> CgroupFs::write(const std::string& path, std::string_view value) {
    // One write() per value: cgroupfs parses each write as a whole command.
    base::Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return base::fail_errno(base::Errc::io, "cannot open " + path, errno);
    // Some controls fail with EINTR whenever a signal is pending, before doing
    // anything (v1 memory.limit_in_bytes checks first thing); the signal is
    // handled on the way out, so the same write again goes through.
    ssize_t n;
    do {
        n = ::write(fd.get(), value.data(), value.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return base::fail_errno(base::Errc::io,
                                "cannot write \"" + std::string(value) + "\" to " + path, errno);
    if (static_cast<std::size_t>(n) != value.size())
        return base::fail(base::Errc::io, "short write to " + path);
    return {};
}

bool CgroupFs::exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

base::Result<void> CgroupFs::make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return {};
    return base::fail_errno(base::Errc::io, "cannot create cgroup " + path, errno);
}

base::Result<void> CgroupFs::remove_dir(const std::string& path) {
    if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return {};
    int err = errno;
    return base::fail_errno(err == EBUSY ? base::Errc::busy : base::Errc::io,
                            "cannot remove cgroup " + path, err);
}

base::Result<std::vector<std::string>> CgroupFs::list_dirs(const std::string& path) {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), ::closedir);
    if (!dir) {
        if (errno == ENOENT) return std::vector<std::string>{};
        return base::fail_errno(base::Errc::io, "cannot list " + path, errno);
    }
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(dir.get())) {
        std::string_view name = entry->d_name;
        if (name == "." || name == "..") continue;
        if (entry->d_type == DT_DIR) names.emplace_back(name);
    }
    return names;
}

base::Result<void> CgroupFs::kill(pid_t pid, int signum) {
    if (::kill(pid, signum) == 0 || errno == ESRCH) return {};
    return base::fail_errno(base::Errc::io, "cannot signal pid " + std::to_string(pid), errno);
}

base::Result<base::Fd> CgroupFs::lock_dir(const std::string& path) {
    base::Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return base::fail_errno(base::Errc::io, "cannot open " + path, errno);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            return base::fail(base::Errc::busy, "another gafferd uses the cgroup parent " + path +
                                                    "; give each daemon its own cgroup_parent");
        return base::fail_errno(base::Errc::io, "cannot lock " + path, errno);
    }
    return fd;
}

CgroupFs& system_cgroup_fs() {
    static CgroupFs fs;
    return fs;
}

}  // namespace gaffer::environment
