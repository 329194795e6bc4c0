// gaffer::base — the bottom layer: errors as values, owned file descriptors, a clock
// interface and logging. Knows only the standard library and tl::expected.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace gaffer::base {

// What the caller should do about a failure. Closed on purpose: add a value only when a
// caller would act differently on it.
enum class Errc {
    invalid,      // the input is wrong; retrying the same input fails again
    not_found,    // the named thing does not exist
    conflict,     // the thing exists already, or its state forbids the request
    busy,         // a bounded resource is full; retry later
    retry,        // transient failure; retry now may succeed
    timeout,      // a deadline passed
    unavailable,  // a dependency (kernel feature, broker, file) is not there
    denied,       // the caller may not do this
    io,           // the system failed (disk, syscall)
};

std::string_view errc_name(Errc code);

struct Error {
    Errc code;
    std::string message;  // says what was wrong and where, for a person to read
};

// One alias so that std::expected (C++23) is a one-line switch.
template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(Errc code, std::string message) {
    return tl::unexpected<Error>(Error{code, std::move(message)});
}

// fail() with strerror(errno_value) appended: "what: No such file or directory".
tl::unexpected<Error> fail_errno(Errc code, std::string what, int errno_value);

// A move-only owned file descriptor. Closing is the destructor's job; -1 is empty.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

// Time is injected: deadlines use this monotonic clock, never the wall clock.
using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
};

class SteadyClock final : public Clock {
public:
    TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

// Wall time, only for logs and payloads that leave the gateway.
std::int64_t wall_epoch_millis();

// Logging is for programs (gafferd, gaffer-init), not for library code: subsystems
// return errors and let the composition root decide what to log.
enum class LogLevel { debug, info, warning, error };
void set_log_level(LogLevel level);
LogLevel log_level();
LogLevel parse_log_level(std::string_view name, LogLevel fallback);
void log(LogLevel level, std::string_view message);
inline void log_info(std::string_view m) { log(LogLevel::info, m); }
inline void log_warning(std::string_view m) { log(LogLevel::warning, m); }
inline void log_error(std::string_view m) { log(LogLevel::error, m); }
inline void log_debug(std::string_view m) { log(LogLevel::debug, m); }

// Units in settings people write: sizes "4096", "512K", "64M", "1G", "1T" (powers of 1024)
// and durations "500ms", "3s", "5m", "1h". nullopt for anything else or on overflow.
std::optional<std::uint64_t> parse_size(std::string_view text);
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// `text` in double quotes, for messages: quoted("queue") is "\"queue\"".
std::string quoted(std::string_view text);

// The candidate closest to `word` when `word` looks like a typo or an abbreviation of it,
// for "unknown key (did you mean ...?)" messages.
std::optional<std::string_view> closest_match(std::string_view word,
                                              const std::vector<std::string_view>& candidates);

// Reads a whole file; writes a whole file (create/truncate, mode 0644 unless given).
Result<std::string> read_file(const std::string& path);
Result<void> write_file(const std::string& path, std::string_view content, int mode = 0644);

// A blocking, close-on-exec stream socket connected to the Unix socket at `path`. Errors:
// invalid (path empty or too long), io (socket), unavailable (nobody listens there).
Result<Fd> connect_unix(const std::string& path);

}  // namespace gaffer::base
