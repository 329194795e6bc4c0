// The routes and outbox tables of coordinator/store.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "coordinator/store/store.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace gaffer::store {
namespace {

using test::RawDb;
using test::TempDir;
using test::check_error;

OutboxMessage message(const std::string& topic, const std::string& payload, int qos = 1) {
    return OutboxMessage{0, topic, payload, qos, false, 0};
}

std::vector<std::int64_t> queued_seqs(Database& db) {
    auto peeked = db.peek_outbox(1000);
    REQUIRE_MESSAGE(peeked, peeked.error().message);
    std::vector<std::int64_t> seqs;
    for (const auto& m : *peeked) seqs.push_back(m.seq);
    return seqs;
}

TEST_CASE("routes: add, list by id, conflict on an identical triple, remove") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE_MESSAGE(db, db.error().message);
    const std::int64_t before = base::wall_epoch_millis();
    auto first = db->add_route("device:a", "things/a/temp", "task:log");
    REQUIRE_MESSAGE(first, first.error().message);
    CHECK(first->id > 0);
    CHECK(first->source == "device:a");
    CHECK(first->filter == "things/a/temp");
    CHECK(first->target == "task:log");
    CHECK(first->created_at >= before);
    auto second = db->add_route("device:a", "things/a/temp", "device:b");  // another target
    REQUIRE(second);
    CHECK(second->id > first->id);

    check_error(db->add_route("device:a", "things/a/temp", "task:log"), base::Errc::conflict,
                "exists already");

    auto routes = db->list_routes();
    REQUIRE(routes);
    REQUIRE(routes->size() == 2);
    CHECK((*routes)[0].id == first->id);
    CHECK((*routes)[0].target == "task:log");
    CHECK((*routes)[0].created_at == first->created_at);
    CHECK((*routes)[1].id == second->id);

    REQUIRE(db->remove_route(first->id));
    check_error(db->remove_route(first->id), base::Errc::not_found, tmp.db_file());
    check_error(db->remove_route(9999), base::Errc::not_found, "9999");

    // A freed id is never handed out again, even for the last row.
    REQUIRE(db->remove_route(second->id));
    auto third = db->add_route("device:a", "things/a/temp", "task:log");
    REQUIRE(third);
    CHECK(third->id > second->id);
}

TEST_CASE("routes: empty and over-long fields are invalid") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    const std::string long_field(Database::kMaxRouteFieldBytes + 1, 'x');
    check_error(db->add_route("", "f", "t"), base::Errc::invalid, "source");
    check_error(db->add_route("s", "", "t"), base::Errc::invalid, "filter");
    check_error(db->add_route("s", "f", ""), base::Errc::invalid, "target");
    check_error(db->add_route(long_field, "f", "t"), base::Errc::invalid, "source");
    check_error(db->add_route("s", long_field, "t"), base::Errc::invalid, "filter");
    auto routes = db->list_routes();
    REQUIRE(routes);
    CHECK(routes->empty());
}

TEST_CASE("outbox: enqueue, peek oldest first, remove, count") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    const std::string binary("\x00\xff\x01zz", 5);
    const std::int64_t before = base::wall_epoch_millis();
    auto a = db->enqueue_outbox(message("things/a/cmd", "one"));
    auto b = db->enqueue_outbox(OutboxMessage{12345, "things/b/cmd", binary, 0, true, 42});
    auto c = db->enqueue_outbox(message("$aws/things/c/shadow/update/accepted", "", 2));
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(c);
    CHECK(*a < *b);
    CHECK(*b < *c);
    CHECK(*b != 12345);  // the caller's seq is ignored

    auto count = db->count_outbox();
    REQUIRE(count);
    CHECK(*count == 3);

    auto two = db->peek_outbox(2);
    REQUIRE(two);
    REQUIRE(two->size() == 2);
    CHECK((*two)[0].seq == *a);
    CHECK((*two)[0].topic == "things/a/cmd");
    CHECK((*two)[0].payload == "one");
    CHECK((*two)[0].qos == 1);
    CHECK_FALSE((*two)[0].retain);
    CHECK((*two)[0].queued_at >= before);  // 0 means now
    CHECK((*two)[1].payload == binary);
    CHECK((*two)[1].qos == 0);
    CHECK((*two)[1].retain);
    CHECK((*two)[1].queued_at == 42);
    auto none = db->peek_outbox(0);
    REQUIRE(none);
    CHECK(none->empty());

    REQUIRE(db->remove_outbox(*b));  // acknowledgements may come out of order
    CHECK(queued_seqs(*db) == std::vector<std::int64_t>{*a, *c});
    check_error(db->remove_outbox(*b), base::Errc::not_found, tmp.db_file());
    REQUIRE(db->remove_outbox(*a));
    REQUIRE(db->remove_outbox(*c));
    CHECK(*db->count_outbox() == 0);

    // An emptied outbox does not hand out old seqs again.
    auto d = db->enqueue_outbox(message("t", "p"));
    REQUIRE(d);
    CHECK(*d > *c);
}

TEST_CASE("outbox: bad messages are invalid") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    check_error(db->enqueue_outbox(message("", "p")), base::Errc::invalid, "topic");
    check_error(db->enqueue_outbox(message(std::string(Database::kMaxTopicBytes + 1, 't'), "p")),
                base::Errc::invalid, "topic");
    check_error(db->enqueue_outbox(message("t", "p", 3)), base::Errc::invalid, "QoS");
    check_error(db->enqueue_outbox(message("t", "p", -1)), base::Errc::invalid, "QoS");
    check_error(db->enqueue_outbox(message("t", std::string(Database::kMaxOutboxPayloadBytes + 1, 'p'))),
                base::Errc::invalid, "payload");
    CHECK(*db->count_outbox() == 0);
}

TEST_CASE("outbox: enqueue is busy at max_outbox, and accepts again once one is removed") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    CHECK(db->max_outbox() == Database::kDefaultMaxOutbox);
    CHECK(Database::kDefaultMaxOutbox == 100000);
    db->set_max_outbox(3);
    std::vector<std::int64_t> seqs;
    for (int i = 0; i < 3; ++i) {
        auto seq = db->enqueue_outbox(message("t", std::to_string(i)));
        REQUIRE(seq);
        seqs.push_back(*seq);
    }
    check_error(db->enqueue_outbox(message("t", "over")), base::Errc::busy, "limit of 3");
    CHECK(*db->count_outbox() == 3);

    REQUIRE(db->remove_outbox(seqs[1]));
    REQUIRE(db->enqueue_outbox(message("t", "fits")));
    check_error(db->enqueue_outbox(message("t", "over")), base::Errc::busy);

    // Lowering the bound below what is queued keeps the messages and refuses new ones.
    db->set_max_outbox(1);
    CHECK(*db->count_outbox() == 3);
    check_error(db->enqueue_outbox(message("t", "over")), base::Errc::busy);
    db->set_max_outbox(0);
    check_error(db->enqueue_outbox(message("t", "over")), base::Errc::busy);

    // The kept count matches the table, including after failed enqueues.
    CHECK(RawDb(tmp.db_file()).integer("SELECT count(*) FROM outbox") == 3);
}

TEST_CASE("outbox: the bound holds across a rolled-back batch") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    db->set_max_outbox(2);
    REQUIRE(db->enqueue_outbox(message("t", "kept")));
    {
        auto batch = db->begin_batch();
        REQUIRE(batch);
        REQUIRE(db->enqueue_outbox(message("t", "dropped")));
        check_error(db->enqueue_outbox(message("t", "over")), base::Errc::busy);
        CHECK(*db->count_outbox() == 2);  // the batch sees its own writes
    }
    CHECK(*db->count_outbox() == 1);
    REQUIRE(db->enqueue_outbox(message("t", "second")));
    check_error(db->enqueue_outbox(message("t", "over")), base::Errc::busy);
}

TEST_CASE("routes and the outbox survive closing and reopening") {
    TempDir tmp;
    std::int64_t route_id = 0;
    std::int64_t seq = 0;
    {
        auto db = Database::open(tmp.state_dir());
        REQUIRE(db);
        auto route = db->add_route("task:t", "things/+/cmd", "device:b");
        REQUIRE(route);
        route_id = route->id;
        auto queued = db->enqueue_outbox(message("things/b/cmd", "go"));
        REQUIRE(queued);
        seq = *queued;
    }
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    auto routes = db->list_routes();
    REQUIRE(routes);
    REQUIRE(routes->size() == 1);
    CHECK((*routes)[0].id == route_id);
    CHECK((*routes)[0].filter == "things/+/cmd");
    CHECK(*db->count_outbox() == 1);
    auto queued = db->peek_outbox(10);
    REQUIRE(queued);
    REQUIRE(queued->size() == 1);
    CHECK((*queued)[0].seq == seq);
    CHECK((*queued)[0].payload == "go");
    auto next = db->enqueue_outbox(message("t", "p"));
    REQUIRE(next);
    CHECK(*next > seq);
}

}  // namespace
}  // namespace gaffer::store
