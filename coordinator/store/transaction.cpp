// Transactions, per-write savepoints and group commit (store::Batch).
#include <utility>

#include "coordinator/store/detail/connection.hpp"
#include "coordinator/store/store.hpp"

namespace gaffer::store {
namespace detail {
namespace {

constexpr char kBeginImmediate[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
constexpr char kRollback[] = "ROLLBACK";
// One name serves every level: SQLite releases and rolls back to the innermost savepoint
// of that name, which is the one the Write on top of the stack opened.
constexpr char kSavepoint[] = "SAVEPOINT gaffer_write";
constexpr char kRelease[] = "RELEASE gaffer_write";
constexpr char kRollbackTo[] = "ROLLBACK TO gaffer_write";

base::Result<void> run(Connection& connection, const char* sql, std::string_view operation) {
    auto q = connection.query(sql, operation);
    if (!q) return tl::unexpected(std::move(q.error()));
    return q->run();
}

bool name_byte(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
           c == '_' || c == '-';
}

}  // namespace

// ---- Transaction ---------------------------------------------------------------------

base::Result<Transaction> Transaction::begin(Connection& connection, std::string_view operation) {
    if (auto done = run(connection, kBeginImmediate, operation); !done)
        return tl::unexpected(std::move(done.error()));
    return Transaction(&connection, operation);
}

Transaction::~Transaction() {
    if (connection_ == nullptr) return;
    // A failed ROLLBACK leaves nothing better to do: SQLite rolls back on its own when
    // the statement that failed was fatal, and the next BEGIN reports the state.
    if (!connection_->autocommit()) (void)run(*connection_, kRollback, operation_);
}

base::Result<void> Transaction::commit() {
    Connection* connection = std::exchange(connection_, nullptr);
    if (auto done = run(*connection, kCommit, operation_); !done) {
        connection_ = connection;  // still open: the destructor rolls it back
        return done;
    }
    return {};
}

// ---- Write ---------------------------------------------------------------------------

base::Result<Write> Write::begin(Connection& connection, std::string_view operation) {
    if (connection.batch_open() && (connection.autocommit() || connection.batch_is_lost())) {
        // An earlier failure made SQLite drop the batch's transaction: writing now would
        // commit alone, outside the batch the caller believes it is in.
        connection.batch_lost("it was gone when " + std::string(operation) + " began");
        return base::fail(base::Errc::io, "store: " + std::string(operation) +
                                              ": SQLite rolled the open batch back; its writes "
                                              "are lost, in " + connection.path());
    }
    if (!connection.autocommit()) {
        if (auto done = run(connection, kSavepoint, operation); !done)
            return tl::unexpected(std::move(done.error()));
        return Write(&connection, true, operation);
    }
    if (auto done = run(connection, kBeginImmediate, operation); !done)
        return tl::unexpected(std::move(done.error()));
    return Write(&connection, false, operation);
}

Write::~Write() {
    if (connection_ == nullptr) return;
    if (!savepoint_) {
        if (!connection_->autocommit()) (void)run(*connection_, kRollback, operation_);
        return;
    }
    // ROLLBACK TO undoes the write but keeps the savepoint on the stack; RELEASE pops it.
    const bool undone = !connection_->autocommit() && run(*connection_, kRollbackTo, operation_) &&
                        run(*connection_, kRelease, operation_);
    if (!undone && connection_->batch_open())
        connection_->batch_lost("after a failed " + std::string(operation_));
}

base::Result<void> Write::commit() {
    Connection* connection = std::exchange(connection_, nullptr);
    if (auto done = run(*connection, savepoint_ ? kRelease : kCommit, operation_); !done) {
        connection_ = connection;  // still open: the destructor rolls it back
        return done;
    }
    return {};
}

// ---- the batch state on the connection -----------------------------------------------

base::Result<void> Connection::begin_batch() {
    if (batch_open_ || !autocommit())
        return base::fail(base::Errc::invalid, "store: begin batch: a batch is open already on " + path_);
    if (auto done = run(*this, kBeginImmediate, "begin batch"); !done) return done;
    batch_open_ = true;
    batch_lost_.clear();
    return {};
}

base::Result<void> Connection::commit_batch() {
    if (!batch_lost_.empty() || autocommit()) {
        std::string why = batch_lost_.empty() ? "by itself" : batch_lost_;
        rollback_batch();
        return base::fail(base::Errc::io, "store: commit batch: SQLite rolled the batch back (" + why +
                                              "); none of its writes are stored, in " + path_);
    }
    auto done = run(*this, kCommit, "commit batch");
    if (!done) {
        rollback_batch();
        done.error().message += " (the batch was rolled back)";
        return done;
    }
    batch_open_ = false;
    return {};
}

void Connection::rollback_batch() noexcept {
    if (!autocommit()) (void)run(*this, kRollback, "roll back batch");
    batch_open_ = false;
    batch_lost_.clear();
}

void Connection::batch_lost(std::string reason) {
    if (batch_lost_.empty()) batch_lost_ = std::move(reason);
}

// ---- names ---------------------------------------------------------------------------

base::Result<void> check_name(std::string_view what, std::string_view name, std::size_t max_bytes) {
    if (name.empty() || name.size() > max_bytes) {
        return base::fail(base::Errc::invalid, "store: " + std::string(what) + " must be 1 to " +
                                                   std::to_string(max_bytes) + " bytes, got " +
                                                   std::to_string(name.size()));
    }
    for (char c : name) {
        if (!name_byte(c)) {
            return base::fail(base::Errc::invalid, "store: " + std::string(what) + " " +
                                                       base::quoted(name) +
                                                       " may hold only letters, digits, ':', '_' and '-'");
        }
    }
    return {};
}

}  // namespace detail

// ---- Batch ---------------------------------------------------------------------------

base::Result<Batch> Database::begin_batch() {
    if (auto done = connection_->begin_batch(); !done) return tl::unexpected(std::move(done.error()));
    return Batch(connection_.get());
}

Batch::Batch(Batch&& other) noexcept : connection_(std::exchange(other.connection_, nullptr)) {}

Batch::~Batch() {
    if (connection_ != nullptr) connection_->rollback_batch();
}

base::Result<void> Batch::commit() {
    detail::Connection* connection = std::exchange(connection_, nullptr);
    if (connection == nullptr)
        return base::fail(base::Errc::invalid, "store: commit batch: the batch is closed already");
    return connection->commit_batch();
}

}  // namespace gaffer::store
