// Private to coordinator/store: one SQLite connection, its cache of prepared statements,
// and the small RAII types the table files use. Not thread-safe: the thread that owns the
// Database (the loop thread) is the only one that touches it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "coordinator/base/base.hpp"

namespace gaffer::store::detail {

struct SqliteCloser {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using SqlitePtr = std::unique_ptr<sqlite3, SqliteCloser>;
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// One use of a cached statement: bind, step, read columns. The destructor resets the
// statement and clears its bindings so the cache can hand it out again. Text and blobs
// are bound without copying (SQLITE_STATIC): what is bound must outlive the Query.
class Query {
public:
    Query(sqlite3_stmt* stmt, bool* in_use, std::string_view operation) noexcept
        : stmt_(stmt), in_use_(in_use), operation_(operation) {}
    Query(Query&& other) noexcept;
    Query& operator=(Query&&) = delete;
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;
    ~Query();

    // Parameters are numbered from 1, as in SQL (?1, ?2, ...).
    Query& text(int index, std::string_view value);
    Query& blob(int index, std::string_view value);
    Query& integer(int index, std::int64_t value);

    // true: a row is ready to read; false: the statement has finished.
    base::Result<bool> step();
    // Steps a statement that returns no rows to completion.
    base::Result<void> run();

    // Columns are numbered from 0. NULL reads as "" or 0.
    std::string column_text(int index) const;
    std::string column_blob(int index) const;
    std::int64_t column_integer(int index) const;
    bool column_is_null(int index) const;

private:
    base::Error error(int rc) const;

    sqlite3_stmt* stmt_;
    bool* in_use_;
    std::string_view operation_;
    int bind_rc_ = SQLITE_OK;  // the first failed bind, reported by step()
};

class Connection {
public:
    // Opens (creating if missing) the database file. Only the handle: no pragmas, no
    // schema. Errors: io.
    static base::Result<std::unique_ptr<Connection>> open(const std::string& path);

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // A cached prepared statement for `sql`, which must be a named constant with static
    // storage: its address is the cache key. `operation` names the caller in errors.
    // Using the same statement twice at once is a programmer error and aborts.
    base::Result<Query> query(const char* sql, std::string_view operation);

    // Runs one or more statements without caching them (schema steps, one-off pragmas).
    base::Result<void> exec(const char* sql, std::string_view operation);

    // A PRAGMA (or any one-row query) whose first column is read as an integer / text.
    base::Result<std::int64_t> read_integer(const char* sql, std::string_view operation);
    base::Result<std::string> read_text(const char* sql, std::string_view operation);

    // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
    std::int64_t changes() const noexcept;

    // True when no transaction is open: SQLite clears it at BEGIN and sets it again at
    // COMMIT, ROLLBACK, or when a failure (a full disk, an I/O error) makes SQLite roll
    // the whole transaction back on its own.
    bool autocommit() const noexcept;

    // Group commit (store::Batch), kept on the connection so that every table file and
    // the journal see it. begin_batch: invalid when one is open, io. commit_batch: on
    // failure rolls back and still closes the batch. rollback_batch never fails.
    base::Result<void> begin_batch();
    base::Result<void> commit_batch();
    void rollback_batch() noexcept;
    bool batch_open() const noexcept { return batch_open_; }
    // Records that SQLite abandoned the batch's transaction, and why; the first reason wins.
    void batch_lost(std::string reason);
    bool batch_is_lost() const noexcept { return !batch_lost_.empty(); }

    // Errc::io carrying the operation, SQLite's message and the file.
    base::Error error(std::string_view operation, int rc) const;

    const std::string& path() const noexcept { return path_; }

private:
    struct Cached {
        StatementPtr stmt;
        bool in_use = false;
    };

    Connection(SqlitePtr db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

    SqlitePtr db_;  // declared first: statements are finalized before the handle closes
    std::string path_;
    std::unordered_map<const char*, Cached> cache_;
    bool batch_open_ = false;
    std::string batch_lost_;  // non-empty once SQLite rolled the batch back by itself
};

// A write transaction: BEGIN IMMEDIATE takes the write lock up front, so a concurrent
// writer shows up as busy_timeout waiting here rather than as SQLITE_BUSY mid-way.
// Rolls back on destruction unless committed.
class Transaction {
public:
    static base::Result<Transaction> begin(Connection& connection, std::string_view operation);
    Transaction(Transaction&& other) noexcept
        : connection_(std::exchange(other.connection_, nullptr)), operation_(other.operation_) {}
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();

    base::Result<void> commit();

private:
    Transaction(Connection* connection, std::string_view operation)
        : connection_(connection), operation_(operation) {}

    Connection* connection_;  // null once committed or rolled back
    std::string_view operation_;
};

// One write of a table file (every Database and journal write goes through one). With
// no transaction open it is a Transaction of its own; inside a batch (or inside another
// Write) it is a savepoint, so that its failure undoes itself and nothing else. Rolls
// back on destruction unless committed. `operation` must outlive the Write (a literal).
// Errors of begin(): io, including a batch that SQLite has already abandoned.
class Write {
public:
    static base::Result<Write> begin(Connection& connection, std::string_view operation);
    Write(Write&& other) noexcept
        : connection_(std::exchange(other.connection_, nullptr)),
          savepoint_(other.savepoint_),
          operation_(other.operation_) {}
    Write& operator=(Write&&) = delete;
    ~Write();

    base::Result<void> commit();

private:
    Write(Connection* connection, bool savepoint, std::string_view operation)
        : connection_(connection), savepoint_(savepoint), operation_(operation) {}

    Connection* connection_;  // null once committed or rolled back
    bool savepoint_;
    std::string_view operation_;
};

// Thing names (1..128) and shadow names (1..64): bytes of [a-zA-Z0-9:_-], the names AWS
// IoT accepts. Errors: invalid, naming `what`.
base::Result<void> check_name(std::string_view what, std::string_view name, std::size_t max_bytes);

// not_found: "store: no device <thing> in <file>".
base::Error no_device(std::string_view thing, const std::string& path);

// A numbered schema step. `sql` must end by setting PRAGMA user_version to `version`.
struct Migration {
    int version;
    const char* sql;
};

// Brings the schema up to the last step, each step in its own BEGIN IMMEDIATE
// transaction. Steps must be numbered 1, 2, 3, ... Returns the resulting user_version.
// Errors: invalid (the file's user_version is newer than the last step), io.
base::Result<int> migrate(Connection& connection, std::span<const Migration> steps);

// Gaffer's own schema, oldest step first.
std::span<const Migration> gaffer_migrations();

}  // namespace gaffer::store::detail
