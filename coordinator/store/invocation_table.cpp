// The invocations table: the journal of accepted async invocations, and its retention.
#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "coordinator/store/detail/connection.hpp"
#include "coordinator/store/store.hpp"

namespace gaffer::store {
namespace {

using scheduler::Status;

// ON CONFLICT DO NOTHING rather than a failing INSERT: a duplicate id is an expected
// answer (conflict), not an SQLite error to decode.
constexpr char kInsertInvocation[] = R"sql(
INSERT INTO invocations (id, task, payload, accepted_at, status)
VALUES (?1, ?2, ?3, ?4, 'pending')
ON CONFLICT (id) DO NOTHING
)sql";

constexpr char kFinishInvocation[] = R"sql(
UPDATE invocations
SET status = 'finished', outcome_status = ?2, result = ?3, detail = ?4, finished_at = ?5
WHERE id = ?1 AND status = 'pending'
)sql";

constexpr char kSelectInvocationStatus[] = "SELECT status FROM invocations WHERE id = ?1";

constexpr char kSelectPending[] =
    "SELECT id, task, payload FROM invocations WHERE status = 'pending' ORDER BY seq";

constexpr char kSelectInvocation[] = R"sql(
SELECT id, task, payload, accepted_at, status, outcome_status, result, detail, finished_at
FROM invocations WHERE id = ?1
)sql";

// The oldest finished records beyond the newest ?1; both sides use invocations_finished.
constexpr char kTrimFinished[] = R"sql(
DELETE FROM invocations WHERE seq IN (
    SELECT seq FROM invocations WHERE status = 'finished'
    ORDER BY finished_at, seq
    LIMIT max(0, (SELECT count(*) FROM invocations WHERE status = 'finished') - ?1))
)sql";

constexpr char kCountByStatus[] = R"sql(
SELECT (SELECT count(*) FROM invocations WHERE status = 'pending'),
       (SELECT count(*) FROM invocations WHERE status = 'finished')
)sql";

// The outcome status as stored: the same words as scheduler::status_name(), spelled out
// here because the store is built before (and without) the scheduler library. Changing a
// word would orphan stored rows: add words, never rename them.
constexpr std::array<std::pair<Status, std::string_view>, 7> kStatusText{{
    {Status::ok, "ok"},
    {Status::function_error, "function_error"},
    {Status::timeout, "timeout"},
    {Status::out_of_memory, "out_of_memory"},
    {Status::crashed, "crashed"},
    {Status::init_error, "init_error"},
    {Status::cancelled, "cancelled"},
}};

std::string_view status_text(Status status) {
    for (const auto& [value, text] : kStatusText) {
        if (value == status) return text;
    }
    return "crashed";  // unreachable for a valid enum value
}

std::optional<Status> parse_status(std::string_view text) {
    for (const auto& [value, word] : kStatusText) {
        if (word == text) return value;
    }
    return std::nullopt;
}

base::Error corrupt(const detail::Connection& connection, const std::string& id,
                    const std::string& what) {
    return base::Error{base::Errc::io, "store: invocation " + id + " in " + connection.path() +
                                           ": " + what};
}

}  // namespace

SqliteJournal::SqliteJournal(Database& database, std::size_t keep_finished)
    : connection_(*database.connection_), keep_finished_(keep_finished) {}

base::Result<void> SqliteJournal::accept(const scheduler::Invocation& invocation) {
    if (invocation.id.empty()) return base::fail(base::Errc::invalid, "store: invocation id is empty");
    if (invocation.task.empty()) {
        return base::fail(base::Errc::invalid, "store: invocation " + invocation.id + " names no task");
    }
    auto write = detail::Write::begin(connection_, "accept invocation");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_.query(kInsertInvocation, "accept invocation");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, invocation.id)
            .text(2, invocation.task)
            .blob(3, invocation.payload)
            .integer(4, base::wall_epoch_millis());
        if (auto done = q->run(); !done) return done;
    }
    if (connection_.changes() == 0) {
        return base::fail(base::Errc::conflict, "store: invocation " + invocation.id +
                                                    " is in the journal already");
    }
    return write->commit();
}

base::Result<void> SqliteJournal::finish(const std::string& id, const scheduler::Outcome& outcome) {
    auto write = detail::Write::begin(connection_, "finish invocation");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_.query(kFinishInvocation, "finish invocation");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, id)
            .text(2, status_text(outcome.status))
            .blob(3, outcome.payload)
            .text(4, outcome.detail)
            .integer(5, base::wall_epoch_millis());
        if (auto done = q->run(); !done) return done;
    }
    if (connection_.changes() == 0) {
        auto q = connection_.query(kSelectInvocationStatus, "finish invocation");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, id);
        auto row = q->step();
        if (!row) return tl::unexpected(std::move(row.error()));
        if (!*row) return base::fail(base::Errc::not_found, "store: no invocation " + id + " in the journal");
        return base::fail(base::Errc::conflict, "store: invocation " + id + " has finished already");
    }
    if (auto done = write->commit(); !done) return done;
    if (finished_) {
        ++*finished_;
    } else if (auto counted = counts()) {
        finished_ = counted->finished;  // includes this one, and what earlier runs left
    }
    // A failed trim is not a failed finish (see the header); the next finish retries.
    // The count can run high when a Batch holding finishes is rolled back. A trim leaves
    // at most keep_finished_ rows whatever the count said, so capping it there after each
    // trim lets it converge instead of trimming on every later finish.
    if (finished_ && *finished_ > keep_finished_) {
        if (auto trimmed = trim()) {
            *finished_ -= std::min<std::uint64_t>(*trimmed, *finished_);
            *finished_ = std::min<std::uint64_t>(*finished_, keep_finished_);
        }
    }
    return {};
}

base::Result<std::vector<scheduler::Invocation>> SqliteJournal::pending() {
    auto q = connection_.query(kSelectPending, "list pending invocations");
    if (!q) return tl::unexpected(std::move(q.error()));
    std::vector<scheduler::Invocation> out;
    for (;;) {
        auto row = q->step();
        if (!row) return tl::unexpected(std::move(row.error()));
        if (!*row) break;
        out.push_back(scheduler::Invocation{q->column_text(0), q->column_text(1), q->column_blob(2),
                                            /*async=*/true});
    }
    return out;
}

base::Result<InvocationRecord> SqliteJournal::find_invocation(const std::string& id) {
    auto q = connection_.query(kSelectInvocation, "find invocation");
    if (!q) return tl::unexpected(std::move(q.error()));
    q->text(1, id);
    auto row = q->step();
    if (!row) return tl::unexpected(std::move(row.error()));
    if (!*row) return base::fail(base::Errc::not_found, "store: no invocation " + id + " in the journal");

    InvocationRecord record;
    record.id = q->column_text(0);
    record.task = q->column_text(1);
    record.payload = q->column_blob(2);
    record.accepted_at = q->column_integer(3);
    record.finished = q->column_text(4) == "finished";
    if (record.finished) {
        std::string word = q->column_text(5);
        auto status = parse_status(word);
        if (!status) return tl::unexpected(corrupt(connection_, id, "unknown outcome status '" + word + "'"));
        record.outcome.status = *status;
        record.outcome.payload = q->column_blob(6);
        record.outcome.detail = q->column_text(7);
        record.finished_at = q->column_integer(8);
    }
    return record;
}

base::Result<std::size_t> SqliteJournal::trim() {
    auto write = detail::Write::begin(connection_, "trim finished invocations");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_.query(kTrimFinished, "trim finished invocations");
        if (!q) return tl::unexpected(std::move(q.error()));
        // keep_finished_ beyond int64 means "keep everything"; clamp rather than wrap.
        constexpr auto kMax = static_cast<std::size_t>(INT64_MAX);
        q->integer(1, static_cast<std::int64_t>(keep_finished_ < kMax ? keep_finished_ : kMax));
        if (auto done = q->run(); !done) return tl::unexpected(std::move(done.error()));
    }
    const auto trimmed = static_cast<std::size_t>(connection_.changes());
    if (auto done = write->commit(); !done) return tl::unexpected(std::move(done.error()));
    return trimmed;
}

base::Result<JournalCounts> SqliteJournal::counts() {
    auto q = connection_.query(kCountByStatus, "count invocations");
    if (!q) return tl::unexpected(std::move(q.error()));
    auto row = q->step();
    if (!row) return tl::unexpected(std::move(row.error()));
    if (!*row) return base::fail(base::Errc::io, "store: count invocations returned no row");
    return JournalCounts{static_cast<std::uint64_t>(q->column_integer(0)),
                         static_cast<std::uint64_t>(q->column_integer(1))};
}

}  // namespace gaffer::store
