// Mount helpers for build_root. All paths are absolute in the current (new) root.
#pragma once

#include <sys/types.h>

#include <string>

#include "coordinator/base/base.hpp"

namespace gaffer::init::mounts {

enum class Access { read_only, writable };

// Binds `source` onto `target` (which must exist), recursively for directories. A read-only
// bind is made read-only with all its submounts (mount_setattr AT_RECURSIVE; kernels before
// 5.12 get a remount of the top mount only). `allow_devices` keeps device nodes usable.
base::Result<void> bind(const std::string& source, const std::string& target, Access access,
                        bool allow_devices);

// Mounts a fresh tmpfs with the given options ("mode=1777,size=64m").
base::Result<void> tmpfs(const std::string& target, const std::string& options,
                         unsigned long flags);

// Turns an existing mount (not its submounts) read-only, keeping nosuid/nodev/noexec flags.
base::Result<void> remount_read_only(const std::string& target, unsigned long keep_flags);

// mkdir -p. Fails with the path when a component is on a read-only mount.
base::Result<void> make_dirs(const std::string& path, mode_t mode);

// Creates an empty regular file to bind a file or a device node onto.
base::Result<void> make_file(const std::string& path);

}  // namespace gaffer::init::mounts
