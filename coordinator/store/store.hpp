// gaffer::store — Gaffer's state on disk: one SQLite file, <state_dir>/gaffer.db, holding
// the installed tasks, the journal of accepted asynchronous invocations, the registered
// devices and their shadows, the message routes, and the MQTT outbox.
//
// An adapter: the only code that knows SQLite. Domain code sees the scheduler::Journal
// port and plain value types; the daemon adapts the device types below to the devices/*
// ports (this header includes none of them).
//
// Threading: a Database, its Batch and every SqliteJournal on it belong to one thread
// (the loop thread). Calls block on disk I/O: a write commits with an fsync before it
// returns, unless a Batch is open (see Batch).
//
// Errors: io for any failing SQLite call (the message names the operation, SQLite's
// message and the file); invalid for bad arguments and for a file this build cannot use;
// not_found / conflict / busy where the calls below say so.
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

// A registered device (an AWS-IoT "thing").
struct StoredDevice {
    std::string thing;                     // 1..128 bytes of [a-zA-Z0-9:_-]
    std::string attributes_json = "{}";    // a JSON object, stored as given
    std::vector<std::string> groups;       // each like a thing name; stored sorted, unique
    std::int64_t created_at = 0;           // wall clock, ms since the epoch
    bool connected = false;
    std::int64_t presence_changed_at = 0;  // wall clock ms; 0: never seen
    std::string credentials = "active";    // short state: "active", "pending", "missing"
};

// One shadow of a device: the classic one (name "") or a named one.
struct StoredShadow {
    std::string thing;
    std::string name;             // "" (classic) or 1..64 bytes of [a-zA-Z0-9:_-]
    std::string document;         // the shadow service's document, stored as given
    std::int64_t version = 0;
    bool deleted = false;         // kept after a delete so the version carries on
    std::int64_t updated_at = 0;  // wall clock ms
};

// A routing-table row. The store checks only sizes: the routing module owns the syntax.
struct StoredRoute {
    std::int64_t id = 0;          // assigned by add_route; never reused
    std::string source, filter, target;
    std::int64_t created_at = 0;  // wall clock ms
};

// A message gafferd accepted to publish (to a device, or a shadow answer) that must
// survive a broker outage and a daemon crash until the broker acknowledges it.
struct OutboxMessage {
    std::int64_t seq = 0;         // assigned by enqueue_outbox; increasing, never reused
    std::string topic, payload;
    int qos = 1;                  // 0, 1 or 2
    bool retain = false;
    std::int64_t queued_at = 0;   // wall clock ms; 0 in enqueue_outbox: now
};

class Batch;

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
    static constexpr std::size_t kMaxThingBytes = 128;
    static constexpr std::size_t kMaxShadowNameBytes = 64;
    static constexpr std::size_t kMaxGroups = 100;
    static constexpr std::size_t kMaxAttributesBytes = 64 * 1024;
    static constexpr std::size_t kMaxShadowDocumentBytes = 128 * 1024;
    static constexpr std::size_t kMaxRouteFieldBytes = 1024;
    static constexpr std::size_t kMaxTopicBytes = 65535;               // MQTT's own limit
    static constexpr std::size_t kMaxOutboxPayloadBytes = 8 * 1024 * 1024;
    static constexpr std::size_t kDefaultMaxOutbox = 100000;

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

    // ---- devices ------------------------------------------------------------------------
    // Every write below checks its arguments first: invalid for a bad thing or shadow
    // name, attributes that are not a JSON object, a bad group, an over-long field.
    // Errors: invalid, conflict (the thing exists), io.
    base::Result<void> add_device(const StoredDevice& device);
    // Replaces every field but created_at, which keeps its stored value. Errors: invalid,
    // not_found, io.
    base::Result<void> update_device(const StoredDevice& device);
    // Errors: not_found, io.
    base::Result<StoredDevice> find_device(std::string_view thing);
    // Whether the device is registered, without reading its record. Errors: io.
    base::Result<bool> has_device(std::string_view thing);
    // Removes the device and all its shadows. Errors: not_found, io.
    base::Result<void> remove_device(std::string_view thing);
    // At most `limit` devices whose names sort after `after` (byte order), in that order:
    // pass the last name of a page to get the next one. Errors: io.
    base::Result<std::vector<StoredDevice>> list_devices(std::string_view after = {},
                                                         std::size_t limit = 1000);
    base::Result<std::uint64_t> count_devices();
    // Sets connected and presence_changed_at as given. Errors: not_found, io.
    base::Result<void> set_device_presence(std::string_view thing, bool connected,
                                           std::int64_t at_ms);

    // ---- shadows ------------------------------------------------------------------------
    // The stored row, deleted ones included; nullopt when there is none. Errors: io.
    base::Result<std::optional<StoredShadow>> find_shadow(std::string_view thing,
                                                          std::string_view name);
    // Inserts or replaces the row (thing, name). Errors: invalid, not_found (no such
    // device), io.
    base::Result<void> put_shadow(const StoredShadow& shadow);
    // The names of the device's shadows that are not deleted, in byte order ("" is the
    // classic shadow, first when present). Errors: not_found (no such device), io.
    base::Result<std::vector<std::string>> list_shadow_names(std::string_view thing);

    // ---- routes -------------------------------------------------------------------------
    // Errors: invalid (an empty or over-long field), conflict (the same source, filter
    // and target exist already), io.
    base::Result<StoredRoute> add_route(std::string_view source, std::string_view filter,
                                        std::string_view target);
    // Errors: not_found, io.
    base::Result<void> remove_route(std::int64_t id);
    // Every route, by id.
    base::Result<std::vector<StoredRoute>> list_routes();

    // ---- outbox -------------------------------------------------------------------------
    // Queues a copy of `message` (its seq is ignored) and returns the seq it got.
    // Errors: invalid (empty or over-long topic, over-long payload, qos not 0..2), busy
    // (max_outbox() messages are queued), io.
    base::Result<std::int64_t> enqueue_outbox(const OutboxMessage& message);
    // The oldest `limit` queued messages, oldest first. Errors: io.
    base::Result<std::vector<OutboxMessage>> peek_outbox(std::size_t limit);
    // Drops a message once the broker has it. Errors: not_found (not queued: a caller
    // that may see an acknowledgement twice can treat it as done), io.
    base::Result<void> remove_outbox(std::int64_t seq);
    base::Result<std::uint64_t> count_outbox();
    // The bound enqueue_outbox enforces; lowering it below the queued count keeps what
    // is queued and refuses new messages until enough are removed.
    void set_max_outbox(std::size_t limit) { max_outbox_ = limit; }
    std::size_t max_outbox() const { return max_outbox_; }

    // ---- group commit -------------------------------------------------------------------
    // Opens a Batch (see below). Errors: invalid (a Batch is open already on this
    // Database), io (including the write lock not coming within busy_timeout).
    base::Result<Batch> begin_batch();

private:
    friend class SqliteJournal;
    Database(std::unique_ptr<detail::Connection> connection, int schema_version);

    std::unique_ptr<detail::Connection> connection_;
    int schema_version_ = 0;
    std::size_t max_outbox_ = kDefaultMaxOutbox;
};

// Group commit. While a Batch is open, every write on its Database (and on every
// SqliteJournal of it) joins the batch's one transaction instead of committing alone,
// and reads see those writes; commit() makes them all durable with one fsync.
//
// Each write runs in a savepoint of its own: a write that fails (invalid, conflict,
// not_found, or an SQLite error on one statement) leaves no trace and the batch usable.
// When SQLite itself abandons the transaction (a full disk, an I/O error), everything in
// the batch is lost: every later write and commit() fail with io saying so.
//
// Destroying an uncommitted Batch rolls everything in it back. Batches do not nest. The
// Batch must not outlive its Database (moving the Database is fine). Holds SQLite's
// write lock while open: other processes writing the file wait (busy_timeout) meanwhile.
class Batch {
public:
    Batch(Batch&& other) noexcept;
    Batch& operator=(Batch&&) = delete;
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    ~Batch();

    // Commits and closes the batch. On failure nothing of it is durable and it is closed
    // all the same. Errors: invalid (committed already), io.
    base::Result<void> commit();

private:
    friend class Database;
    explicit Batch(detail::Connection* connection) : connection_(connection) {}

    detail::Connection* connection_;  // null once committed or rolled back
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

// The scheduler's durable journal of async invocations; its writes join an open Batch
// of its Database. Keeps every pending record and
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
