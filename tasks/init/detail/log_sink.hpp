// The task's log file: lines from its stdout and stderr appended to LaunchSpec::log_path,
// rotated by size (path -> path.1 -> ... -> path.N, the oldest dropped). The file and its
// directory are opened before the old root is detached, after which the directory is not
// reachable by path any more; rotation works through the directory descriptor
// (renameat/openat).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "coordinator/base/base.hpp"

namespace gaffer::init {

class LogSink {
public:
    LogSink() = default;  // discards everything
    // An empty path gives a sink that discards. `root`: where the host's root is mounted
    // now ("" or "/.oldroot"); error messages name the host's path.
    static base::Result<LogSink> open(const std::string& path, std::uint64_t max_bytes,
                                      std::uint32_t keep, const std::string& root = "");

    // Appends `line` plus a newline, rotating first when the file would pass max_bytes.
    // Write failures (disk full) drop the line: the task must not block on its log.
    void write_line(std::string_view line);

private:
    void rotate();

    base::Fd dir_;
    base::Fd file_;
    std::string name_;
    std::uint64_t size_ = 0;
    std::uint64_t max_bytes_ = 0;
    std::uint32_t keep_ = 0;
    std::string scratch_;
};

// Splits one stream (the task's stdout or stderr) into lines for a LogSink. A line longer
// than kMaxLine is written in pieces so a stream without newlines cannot grow memory.
class LineSplitter {
public:
    static constexpr std::size_t kMaxLine = 16 * 1024;
    void feed(std::string_view bytes, LogSink& sink);
    void flush(LogSink& sink);  // writes a trailing partial line (at EOF)

private:
    std::string partial_;
};

}  // namespace gaffer::init
