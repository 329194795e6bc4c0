// gaffer::store — Gaffer's state on disk: one SQLite file, <state_dir>/gaffer.db, holding
// the installed tasks and the journal of accepted asynchronous invocations.
//
// An adapter: the only code that knows SQLite. Domain code sees the scheduler::Journal
// port and plain value types.
//
// Threading: a Database and every SqliteJournal on it belong to one thread (the loop
// thread). Calls block on disk I/O: a write commits with an fsync before it returns.
//
// Errors: io for any failing SQLite call (the message names the operation, SQLite's
// message and the file); invalid for bad arguments and for a file this build cannot use;
// not_found / conflict where the calls below say so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/base.hpp"
#include "coordinator/scheduler/scheduler.hpp"

namespace gaffer::store {

namespace detail {
class Connection;
}

struct StoredTask {
    std::string name;
    std::string manifest_json;
    std::string state;              // short text: "enabled", "broken", ...
    std::int64_t updated_at = 0;    // wall clock, milliseconds since the epoch
};

// The settings in force on the connection, read back from SQLite (for diagnostics).
struct ConnectionSettings {
    std::string journal_mode;       // "wal"
    int synchronous = 0;            // 2 = FULL
    int busy_timeout_ms = 0;
    bool foreign_keys = false;
};

class Database {
public:
    static constexpr std::string_view kFileName = "gaffer.db";
    static constexpr std::size_t kMaxNameBytes = 255;
    static constexpr std::size_t kMaxStateBytes = 32;

    // Opens <state_dir>/gaffer.db, creating the directory (mode 0700; its parent must
    // exist) and the file if missing, and brings the schema up to date. Errors: invalid
    // (state_dir is not a directory; the file is not Gaffer's; its schema is newer than
    // this build), io.
    static base::Result<Database> open(const std::string& state_dir);

    Database(Database&&) noexcept;
    Database& operator=(Database&&) noexcept;
    ~Database();

    const std::string& path() const;
    // The schema version of the open file; equals supported_schema_version() after open().
    int schema_version() const { return schema_version_; }
    static int supported_schema_version();
    base::Result<ConnectionSettings> settings();

    // ---- tasks --------------------------------------------------------------------------
    // Inserts or replaces the task `name`. Errors: invalid (empty or over-long name or
    // state, manifest_json not JSON), io.
    base::Result<void> put_task(std::string_view name, std::string_view manifest_json,
                                std::string_view state);
    // Errors: not_found, io.
    base::Result<void> remove_task(std::string_view name);
    // Errors: invalid (state), not_found, io.
    base::Result<void> set_task_state(std::string_view name, std::string_view state);
    // Every task, ordered by name.
    base::Result<std::vector<StoredTask>> list_tasks();

private:
    friend class SqliteJournal;
    Database(std::unique_ptr<detail::Connection> connection, int schema_version);

    std::unique_ptr<detail::Connection> connection_;
    int schema_version_ = 0;
};

// One async invocation as the journal holds it (for `gaffer invocation show`).
struct InvocationRecord {
    std::string id;
    std::string task;
    std::string payload;
    std::int64_t accepted_at = 0;   // wall clock, milliseconds since the epoch
    bool finished = false;
    scheduler::Outcome outcome;     // meaningful when finished
    std::int64_t finished_at = 0;   // wall clock ms; 0 while pending
};

struct JournalCounts {
    std::uint64_t pending = 0;
    std::uint64_t finished = 0;
};

// The scheduler's durable journal of async invocations. Keeps every pending record and
// at most `keep_finished` finished ones: once a finish goes over that, the oldest
// finished records are deleted.
//
// `database` must outlive the journal (moving the Database is fine).
class SqliteJournal final : public scheduler::Journal {
public:
    static constexpr std::size_t kDefaultKeepFinished = 10000;

    explicit SqliteJournal(Database& database, std::size_t keep_finished = kDefaultKeepFinished);

    // Records `invocation` as pending; durable when this returns. Errors: invalid (empty
    // id or task), conflict (the id is in the journal already, pending or finished), io.
    base::Result<void> accept(const scheduler::Invocation& invocation) override;
    // Marks a pending invocation finished with `outcome`. Errors: not_found (no such id),
    // conflict (already finished), io. A failed retention pass is not an error of
    // finish(): the outcome is committed, and the next pass retries.
    base::Result<void> finish(const std::string& id, const scheduler::Outcome& outcome) override;
    // Accepted, unfinished invocations, oldest first (async = true).
    base::Result<std::vector<scheduler::Invocation>> pending() override;

    // Errors: not_found, io (including a record whose outcome status this build does not
    // know).
    base::Result<InvocationRecord> find_invocation(const std::string& id);
    // Deletes the oldest finished records beyond keep_finished now; returns how many.
    base::Result<std::size_t> trim();
    base::Result<JournalCounts> counts();

private:
    detail::Connection& connection_;
    std::size_t keep_finished_;
    // Finished records in the file, counted once on the first finish and kept up to date
    // after, so that retention costs a DELETE only when it is over the limit.
    std::optional<std::uint64_t> finished_;
};

}  // namespace gaffer::store
