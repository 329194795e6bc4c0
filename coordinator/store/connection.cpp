#include "coordinator/store/detail/connection.hpp"

#include <cstdlib>

namespace gaffer::store::detail {
namespace {

// sqlite3_bind_blob/text with a null pointer bind SQL NULL, not an empty value.
const char* non_null(std::string_view value) noexcept {
    return value.data() != nullptr ? value.data() : "";
}

}  // namespace

// ---- Query ---------------------------------------------------------------------------

Query::Query(Query&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      operation_(other.operation_),
      bind_rc_(other.bind_rc_) {}

Query::~Query() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
}

Query& Query::text(int index, std::string_view value) {
    int rc = sqlite3_bind_text64(stmt_, index, non_null(value), value.size(), SQLITE_STATIC,
                                 SQLITE_UTF8);
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
}

Query& Query::blob(int index, std::string_view value) {
    int rc = sqlite3_bind_blob64(stmt_, index, non_null(value), value.size(), SQLITE_STATIC);
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
}

Query& Query::integer(int index, std::int64_t value) {
    int rc = sqlite3_bind_int64(stmt_, index, value);
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
}

base::Result<bool> Query::step() {
    if (bind_rc_ != SQLITE_OK) return tl::unexpected(error(bind_rc_));
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return tl::unexpected(error(rc));
}

base::Result<void> Query::run() {
    for (;;) {
        auto row = step();
        if (!row) return tl::unexpected(std::move(row.error()));
        if (!*row) return {};
    }
}

std::string Query::column_text(int index) const {
    const auto* data = sqlite3_column_text(stmt_, index);
    int size = sqlite3_column_bytes(stmt_, index);  // after the pointer, as SQLite asks
    if (data == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
}

std::string Query::column_blob(int index) const {
    const void* data = sqlite3_column_blob(stmt_, index);
    int size = sqlite3_column_bytes(stmt_, index);
    if (data == nullptr) return {};  // NULL, or a zero-length blob
    return std::string(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

std::int64_t Query::column_integer(int index) const {
    return sqlite3_column_int64(stmt_, index);
}

bool Query::column_is_null(int index) const {
    return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

base::Error Query::error(int rc) const {
    sqlite3* db = sqlite3_db_handle(stmt_);
    std::string message = "store: " + std::string(operation_) + ": " + sqlite3_errstr(rc);
    // errmsg describes the most recent failure on the handle; only add it when it is
    // about this one (a bind failure does not set it).
    if (sqlite3_extended_errcode(db) == rc) message += std::string(" (") + sqlite3_errmsg(db) + ")";
    if (const char* file = sqlite3_db_filename(db, "main"); file != nullptr && *file != '\0')
        message += std::string(" in ") + file;
    return base::Error{base::Errc::io, std::move(message)};
}

// ---- Connection ----------------------------------------------------------------------

base::Result<std::unique_ptr<Connection>> Connection::open(const std::string& path) {
    // NOMUTEX: one thread owns the connection, so SQLite's own locking is dead weight.
    // EXRESCODE: extended result codes (e.g. SQLITE_CONSTRAINT_UNIQUE) in every error.
    // SQLite's unix VFS opens its files with O_CLOEXEC, so task processes never inherit them.
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
#ifdef SQLITE_OPEN_EXRESCODE
    flags |= SQLITE_OPEN_EXRESCODE;
#endif
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    SqlitePtr db(raw);  // owned even on failure: open_v2 may hand back a handle with the error
    if (rc != SQLITE_OK) {
        std::string detail = db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc);
        return base::fail(base::Errc::io, "store: open " + path + ": " + detail);
    }
    sqlite3_extended_result_codes(db.get(), 1);
    return std::unique_ptr<Connection>(new Connection(std::move(db), path));
}

base::Result<Query> Connection::query(const char* sql, std::string_view operation) {
    auto found = cache_.find(sql);
    if (found == cache_.end()) {
        sqlite3_stmt* raw = nullptr;
        // PERSISTENT: these statements live as long as the connection.
        int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
        StatementPtr stmt(raw);
        if (rc != SQLITE_OK) return tl::unexpected(error(operation, rc));
        if (!stmt) return base::fail(base::Errc::io, "store: " + std::string(operation) +
                                                         ": empty SQL statement");
        found = cache_.emplace(sql, Cached{std::move(stmt), false}).first;
    }
    Cached& cached = found->second;
    if (cached.in_use) std::abort();  // two live Queries on one statement: a bug in this folder
    cached.in_use = true;
    return Query(cached.stmt.get(), &cached.in_use, operation);
}

base::Result<void> Connection::exec(const char* sql, std::string_view operation) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &message);
    std::unique_ptr<char, decltype(&sqlite3_free)> owned(message, &sqlite3_free);
    if (rc != SQLITE_OK) return tl::unexpected(error(operation, rc));
    return {};
}

namespace {
// The first column of the one row `sql` returns, read by `column`.
template <class Column>
auto read_single(Connection& connection, const char* sql, std::string_view operation,
                 const std::string& path, Column column)
    -> base::Result<decltype(column(std::declval<Query&>()))> {
    auto q = connection.query(sql, operation);
    if (!q) return tl::unexpected(std::move(q.error()));
    auto row = q->step();
    if (!row) return tl::unexpected(std::move(row.error()));
    if (!*row) return base::fail(base::Errc::io, "store: " + std::string(operation) +
                                                     ": no value returned in " + path);
    return column(*q);
}
}  // namespace

base::Result<std::int64_t> Connection::read_integer(const char* sql, std::string_view operation) {
    return read_single(*this, sql, operation, path_, [](Query& q) { return q.column_integer(0); });
}

base::Result<std::string> Connection::read_text(const char* sql, std::string_view operation) {
    return read_single(*this, sql, operation, path_, [](Query& q) { return q.column_text(0); });
}

std::int64_t Connection::changes() const noexcept {
    return sqlite3_changes64(db_.get());
}

bool Connection::autocommit() const noexcept {
    return sqlite3_get_autocommit(db_.get()) != 0;
}

base::Error Connection::error(std::string_view operation, int rc) const {
    std::string message = "store: " + std::string(operation) + ": ";
    message += sqlite3_extended_errcode(db_.get()) == rc ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
    message += " in " + path_;
    return base::Error{base::Errc::io, std::move(message)};
}

}  // namespace gaffer::store::detail
