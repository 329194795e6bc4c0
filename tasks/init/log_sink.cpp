#include "tasks/init/detail/log_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace gaffer::init {
namespace {
constexpr int kFileFlags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
constexpr mode_t kFileMode = 0640;
}  // namespace

base::Result<LogSink> LogSink::open(const std::string& path, std::uint64_t max_bytes,
                                    std::uint32_t keep, const std::string& root) {
    LogSink sink;
    if (path.empty()) return sink;
    auto slash = path.rfind('/');
    std::string dir = slash == 0 ? "/" : path.substr(0, slash);
    sink.name_ = path.substr(slash + 1);
    if (sink.name_.empty()) return base::fail(base::Errc::invalid, "log_path " + path + " names a directory");
    sink.dir_.reset(::open((root + dir).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!sink.dir_) return base::fail_errno(base::Errc::io, "open log directory " + dir, errno);
    sink.file_.reset(::openat(sink.dir_.get(), sink.name_.c_str(), kFileFlags, kFileMode));
    if (!sink.file_) return base::fail_errno(base::Errc::io, "open log file " + path, errno);
    struct stat st {};
    if (::fstat(sink.file_.get(), &st) == 0) sink.size_ = static_cast<std::uint64_t>(st.st_size);
    sink.max_bytes_ = max_bytes;
    sink.keep_ = keep;
    return sink;
}

void LogSink::rotate() {
    if (keep_ == 0) {
        // Nothing to keep: start the same file over.
        if (::ftruncate(file_.get(), 0) == 0) size_ = 0;
        return;
    }
    for (std::uint32_t i = keep_; i > 1; --i) {
        std::string from = name_ + "." + std::to_string(i - 1);
        std::string to = name_ + "." + std::to_string(i);
        ::renameat(dir_.get(), from.c_str(), dir_.get(), to.c_str());  // ENOENT: not there yet
    }
    std::string first = name_ + ".1";
    if (::renameat(dir_.get(), name_.c_str(), dir_.get(), first.c_str()) != 0) return;
    base::Fd fresh(::openat(dir_.get(), name_.c_str(), kFileFlags | O_TRUNC, kFileMode));
    // If the new file cannot be made, keep appending to the renamed one rather than lose lines.
    if (!fresh) return;
    file_ = std::move(fresh);
    size_ = 0;
}

void LogSink::write_line(std::string_view line) {
    if (!file_) return;
    const std::uint64_t len = line.size() + 1;
    if (size_ > 0 && size_ + len > max_bytes_) rotate();
    scratch_.assign(line);
    scratch_ += '\n';
    ssize_t n;
    do {
        n = ::write(file_.get(), scratch_.data(), scratch_.size());
    } while (n < 0 && errno == EINTR);
    if (n > 0) size_ += static_cast<std::uint64_t>(n);
    if (scratch_.capacity() > 4 * LineSplitter::kMaxLine) std::string().swap(scratch_);
}

void LineSplitter::feed(std::string_view bytes, LogSink& sink) {
    while (!bytes.empty()) {
        auto nl = bytes.find('\n');
        if (nl == std::string_view::npos) {
            std::size_t room = kMaxLine - partial_.size();
            if (bytes.size() < room) {
                partial_.append(bytes);
                return;
            }
            partial_.append(bytes.substr(0, room));
            bytes.remove_prefix(room);
            sink.write_line(partial_);
            partial_.clear();
            continue;
        }
        if (partial_.size() + nl > kMaxLine) {
            // Too long with what is buffered: fill the buffer up and write it as one piece.
            std::size_t room = kMaxLine - partial_.size();
            partial_.append(bytes.substr(0, room));
            bytes.remove_prefix(room);
            sink.write_line(partial_);
            partial_.clear();
            continue;
        }
        if (partial_.empty()) {
            sink.write_line(bytes.substr(0, nl));
        } else {
            partial_.append(bytes.substr(0, nl));
            sink.write_line(partial_);
            partial_.clear();
        }
        bytes.remove_prefix(nl + 1);
    }
}

void LineSplitter::flush(LogSink& sink) {
    if (partial_.empty()) return;
    sink.write_line(partial_);
    partial_.clear();
}

}  // namespace gaffer::init
