// The outbox: MQTT messages gafferd accepted to publish, kept until the broker has them.
// Paho's own persistence never fsyncs (PITFALLS.md), so the durable copy is this one.
#include <algorithm>
#include <cstdint>

#include "coordinator/store/detail/connection.hpp"
#include "coordinator/store/store.hpp"

namespace gaffer::store {
namespace {

// The bound is checked in the INSERT itself against outbox_size (kept by triggers, see
// schema step 2): no row and no RETURNING when the outbox is full.
constexpr char kEnqueue[] = R"sql(
INSERT INTO outbox (topic, payload, qos, retain, queued_at)
SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT n FROM outbox_size WHERE id = 0) < ?6
RETURNING seq
)sql";

constexpr char kPeek[] =
    "SELECT seq, topic, payload, qos, retain, queued_at FROM outbox ORDER BY seq LIMIT ?1";
constexpr char kRemove[] = "DELETE FROM outbox WHERE seq = ?1";
constexpr char kCount[] = "SELECT n FROM outbox_size WHERE id = 0";

constexpr auto kMaxInt64 = static_cast<std::size_t>(INT64_MAX);

base::Result<void> check_message(const OutboxMessage& message) {
    if (message.topic.empty() || message.topic.size() > Database::kMaxTopicBytes) {
        return base::fail(base::Errc::invalid, "store: an outbox topic must be 1 to " +
                                                   std::to_string(Database::kMaxTopicBytes) +
                                                   " bytes, got " + std::to_string(message.topic.size()));
    }
    const std::string where = "store: outbox message on " + base::quoted(message.topic) + ": ";
    if (message.payload.size() > Database::kMaxOutboxPayloadBytes) {
        return base::fail(base::Errc::invalid, where + "the payload is " +
                                                   std::to_string(message.payload.size()) +
                                                   " bytes, over the limit of " +
                                                   std::to_string(Database::kMaxOutboxPayloadBytes));
    }
    if (message.qos < 0 || message.qos > 2)
        return base::fail(base::Errc::invalid, where + "QoS " + std::to_string(message.qos) + " is not 0, 1 or 2");
    return {};
}

}  // namespace

base::Result<std::int64_t> Database::enqueue_outbox(const OutboxMessage& message) {
    if (auto ok = check_message(message); !ok) return tl::unexpected(std::move(ok.error()));
    auto write = detail::Write::begin(*connection_, "enqueue outbox message");
    if (!write) return tl::unexpected(std::move(write.error()));
    std::int64_t seq = 0;
    {
        auto q = connection_->query(kEnqueue, "enqueue outbox message");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, message.topic)
            .blob(2, message.payload)
            .integer(3, message.qos)
            .integer(4, message.retain ? 1 : 0)
            .integer(5, message.queued_at != 0 ? message.queued_at : base::wall_epoch_millis())
            .integer(6, static_cast<std::int64_t>(std::min(max_outbox_, kMaxInt64)));
        auto row = q->step();
        if (!row) return tl::unexpected(std::move(row.error()));
        if (!*row) {
            return base::fail(base::Errc::busy, "store: the outbox in " + connection_->path() +
                                                    " holds its limit of " + std::to_string(max_outbox_) +
                                                    " messages; retry once the broker takes some");
        }
        seq = q->column_integer(0);
        if (auto done = q->run(); !done) return tl::unexpected(std::move(done.error()));
    }
    if (auto done = write->commit(); !done) return tl::unexpected(std::move(done.error()));
    return seq;
}

base::Result<std::vector<OutboxMessage>> Database::peek_outbox(std::size_t limit) {
    std::vector<OutboxMessage> messages;
    if (limit == 0) return messages;
    auto q = connection_->query(kPeek, "peek outbox");
    if (!q) return tl::unexpected(std::move(q.error()));
    q->integer(1, static_cast<std::int64_t>(std::min(limit, kMaxInt64)));
    for (;;) {
        auto row = q->step();
        if (!row) return tl::unexpected(std::move(row.error()));
        if (!*row) break;
        messages.push_back(OutboxMessage{q->column_integer(0), q->column_text(1), q->column_blob(2),
                                         static_cast<int>(q->column_integer(3)),
                                         q->column_integer(4) != 0, q->column_integer(5)});
    }
    return messages;
}

base::Result<void> Database::remove_outbox(std::int64_t seq) {
    auto write = detail::Write::begin(*connection_, "remove outbox message");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_->query(kRemove, "remove outbox message");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->integer(1, seq);
        if (auto done = q->run(); !done) return done;
    }
    if (connection_->changes() == 0) {
        return base::fail(base::Errc::not_found, "store: no outbox message " + std::to_string(seq) +
                                                     " in " + connection_->path());
    }
    return write->commit();
}

base::Result<std::uint64_t> Database::count_outbox() {
    auto n = connection_->read_integer(kCount, "count outbox");
    if (!n) return tl::unexpected(std::move(n.error()));
    return static_cast<std::uint64_t>(*n);
}

}  // namespace gaffer::store
