// The schema, as numbered steps applied by PRAGMA user_version. A released step is never
// edited: a change to the schema is a new step appended to the list.
#include <cstdlib>
#include <string>

#include "coordinator/store/detail/connection.hpp"

namespace gaffer::store::detail {
namespace {

constexpr char kReadUserVersion[] = "PRAGMA user_version";

// Step 1: tasks and the async invocation journal.
//
// invocations.seq is the rowid: acceptance order that survives VACUUM (an implicit rowid
// may be renumbered by VACUUM) and wall-clock steps; pending() and retention order by it.
// id is UNIQUE rather than the PRIMARY KEY for that reason; in a rowid table a text
// primary key is the same unique index anyway.
// The partial indexes keep pending() and retention proportional to what they return.
// application_id marks the file as Gaffer's ('GAFF').
constexpr char kStep1[] = R"sql(
CREATE TABLE tasks (
    name          TEXT PRIMARY KEY NOT NULL,
    manifest_json TEXT NOT NULL,
    state         TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE invocations (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    task           TEXT NOT NULL,
    payload        BLOB NOT NULL,
    accepted_at    INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'finished')),
    outcome_status TEXT,
    result         BLOB,
    detail         TEXT,
    finished_at    INTEGER
) STRICT;

CREATE INDEX invocations_pending ON invocations (seq) WHERE status = 'pending';
CREATE INDEX invocations_finished ON invocations (finished_at, seq) WHERE status = 'finished';

PRAGMA application_id = 1195460166;
PRAGMA user_version = 1;
)sql";

// Step 2: devices, their shadows, routes and the MQTT outbox (issue #3).
//
// shadows reference devices ON DELETE CASCADE (foreign_keys is on for every connection):
// removing a device removes its shadows in the same statement. Their primary key starts
// with thing, which is the index the cascade and list_shadow_names need.
// groups_json holds the device's groups as a sorted JSON array: they are only ever read
// with their device, and SQLite's json_each can still search them.
// routes.id and outbox.seq are AUTOINCREMENT so that an id is never handed out twice: a
// stale remove (a repeated DELETE /routes/5, a late broker acknowledgement) must not hit
// a newer row that would otherwise reuse a freed id.
// outbox_size keeps the outbox's row count in step with the table (triggers, inside the
// same transaction, so rollbacks keep it exact): the bound check on every enqueue then
// reads one row instead of counting up to 100,000.
constexpr char kStep2[] = R"sql(
CREATE TABLE devices (
    thing               TEXT PRIMARY KEY NOT NULL,
    attributes_json     TEXT NOT NULL,
    groups_json         TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    connected           INTEGER NOT NULL CHECK (connected IN (0, 1)),
    presence_changed_at INTEGER NOT NULL,
    credentials         TEXT NOT NULL
) STRICT;

CREATE TABLE shadows (
    thing      TEXT NOT NULL REFERENCES devices (thing) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    document   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    deleted    INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (thing, name)
) STRICT;

CREATE TABLE routes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    source     TEXT NOT NULL,
    filter     TEXT NOT NULL,
    target     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (source, filter, target)
) STRICT;

CREATE TABLE outbox (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    topic     TEXT NOT NULL,
    payload   BLOB NOT NULL,
    qos       INTEGER NOT NULL CHECK (qos IN (0, 1, 2)),
    retain    INTEGER NOT NULL CHECK (retain IN (0, 1)),
    queued_at INTEGER NOT NULL
) STRICT;

CREATE TABLE outbox_size (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    n  INTEGER NOT NULL
) STRICT;
INSERT INTO outbox_size (id, n) VALUES (0, 0);

CREATE TRIGGER outbox_counted_insert AFTER INSERT ON outbox
BEGIN UPDATE outbox_size SET n = n + 1 WHERE id = 0; END;
CREATE TRIGGER outbox_counted_delete AFTER DELETE ON outbox
BEGIN UPDATE outbox_size SET n = n - 1 WHERE id = 0; END;

PRAGMA user_version = 2;
)sql";

constexpr Migration kGafferMigrations[] = {
    {1, kStep1},
    {2, kStep2},
};

base::Result<int> read_user_version(Connection& connection) {
    auto version = connection.read_integer(kReadUserVersion, "read schema version");
    if (!version) return tl::unexpected(std::move(version.error()));
    return static_cast<int>(*version);
}

// One step in its own transaction. Re-reads the version under the write lock: another
// process opening the same file may have applied the step meanwhile.
base::Result<void> apply(Connection& connection, const Migration& step) {
    const std::string operation = "schema migration " + std::to_string(step.version);
    auto txn = Transaction::begin(connection, operation);
    if (!txn) return tl::unexpected(std::move(txn.error()));
    auto current = read_user_version(connection);
    if (!current) return tl::unexpected(std::move(current.error()));
    if (*current >= step.version) return txn->commit();
    if (auto done = connection.exec(step.sql, operation); !done)
        return tl::unexpected(std::move(done.error()));
    auto after = read_user_version(connection);
    if (!after) return tl::unexpected(std::move(after.error()));
    if (*after != step.version) {
        return base::fail(base::Errc::io, "store: " + operation + " left user_version at " +
                                              std::to_string(*after) + " in " + connection.path());
    }
    return txn->commit();
}

}  // namespace

std::span<const Migration> gaffer_migrations() {
    return kGafferMigrations;
}

base::Result<int> migrate(Connection& connection, std::span<const Migration> steps) {
    for (std::size_t i = 0; i < steps.size(); ++i) {
        if (steps[i].version != static_cast<int>(i) + 1) std::abort();  // a bug in the list
    }
    const int latest = static_cast<int>(steps.size());
    auto current = read_user_version(connection);
    if (!current) return tl::unexpected(std::move(current.error()));
    if (*current > latest) {
        return base::fail(base::Errc::invalid,
                          "store: " + connection.path() + " has schema version " +
                              std::to_string(*current) + ", newer than the " +
                              std::to_string(latest) +
                              " this build knows; run a newer gafferd or restore a backup");
    }
    for (const Migration& step : steps.subspan(static_cast<std::size_t>(*current))) {
        if (auto done = apply(connection, step); !done) return tl::unexpected(std::move(done.error()));
    }
    return read_user_version(connection);
}

}  // namespace gaffer::store::detail
