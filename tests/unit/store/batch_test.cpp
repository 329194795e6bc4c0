// Group commit: store::Batch, and the per-write savepoints under it.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "coordinator/store/detail/connection.hpp"
#include "coordinator/store/store.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace gaffer::store {
namespace {

using test::RawDb;
using test::TempDir;
using test::device;
using test::shadow;

TEST_CASE("batch: writes are invisible to other connections until commit, then all there") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE_MESSAGE(db, db.error().message);
    REQUIRE(db->add_device(device("lamp")));
    RawDb other(tmp.db_file());

    auto batch = db->begin_batch();
    REQUIRE_MESSAGE(batch, batch.error().message);
    for (int v = 1; v <= 50; ++v) REQUIRE(db->put_shadow(shadow("lamp", "s" + std::to_string(v), v)));
    REQUIRE(db->add_device(device("fan")));
    REQUIRE(db->add_route("device:fan", "things/fan/#", "task:t"));
    REQUIRE(db->enqueue_outbox({0, "things/fan/cmd", "on", 1, false, 0}));
    REQUIRE(db->put_task("t", "{}", "enabled"));

    // This connection reads its own batch; another one (WAL) still sees the last commit.
    CHECK(db->list_shadow_names("lamp")->size() == 50);
    CHECK(*db->count_devices() == 2);
    CHECK(other.integer("SELECT count(*) FROM shadows") == 0);
    CHECK(other.integer("SELECT count(*) FROM devices") == 1);

    REQUIRE(batch->commit());
    CHECK(other.integer("SELECT count(*) FROM shadows") == 50);
    CHECK(other.integer("SELECT count(*) FROM devices") == 2);
    CHECK(other.integer("SELECT count(*) FROM routes") == 1);
    CHECK(other.integer("SELECT count(*) FROM outbox") == 1);
    CHECK(other.integer("SELECT count(*) FROM tasks") == 1);

    auto again = batch->commit();
    REQUIRE_FALSE(again);
    CHECK(again.error().code == base::Errc::invalid);

    // Writes after the commit commit alone again.
    REQUIRE(db->put_shadow(shadow("lamp", "after", 1)));
    CHECK(other.integer("SELECT count(*) FROM shadows") == 51);
}

TEST_CASE("batch: destroying an uncommitted batch rolls every write in it back") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    REQUIRE(db->add_device(device("lamp")));
    REQUIRE(db->put_shadow(shadow("lamp", "", 1)));
    SqliteJournal journal(*db);
    {
        auto batch = db->begin_batch();
        REQUIRE(batch);
        REQUIRE(db->put_shadow(shadow("lamp", "", 2)));
        REQUIRE(db->add_device(device("fan")));
        REQUIRE(db->remove_device("lamp"));
        REQUIRE(db->enqueue_outbox({0, "t", "p", 1, false, 0}));
        REQUIRE(db->add_route("s", "f", "t"));
        REQUIRE(journal.accept({"inv-1", "t", "p", true}));
        Batch moved = std::move(*batch);  // the moved-from one must not roll back twice
    }
    auto lamp = db->find_shadow("lamp", "");
    REQUIRE(lamp);
    REQUIRE(lamp->has_value());
    CHECK((*lamp)->version == 1);
    CHECK(db->find_device("lamp"));
    CHECK_FALSE(db->find_device("fan"));
    CHECK(*db->count_outbox() == 0);
    CHECK(db->list_routes()->empty());
    CHECK(journal.pending()->empty());

    // The connection is usable, and a new batch can open.
    auto next = db->begin_batch();
    REQUIRE(next);
    REQUIRE(db->put_shadow(shadow("lamp", "", 3)));
    REQUIRE(next->commit());
    CHECK((*db->find_shadow("lamp", ""))->version == 3);
}

TEST_CASE("batch: batches do not nest") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    auto batch = db->begin_batch();
    REQUIRE(batch);
    auto second = db->begin_batch();
    REQUIRE_FALSE(second);
    CHECK(second.error().code == base::Errc::invalid);
    CHECK(second.error().message.find(tmp.db_file()) != std::string::npos);
    REQUIRE(db->add_device(device("still-usable")));
    REQUIRE(batch->commit());
    CHECK(db->find_device("still-usable"));
}

TEST_CASE("batch: a failed write leaves no trace and the batch usable") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    REQUIRE(db->add_device(device("lamp")));
    // RAISE(FAIL) keeps what the failing statement already did (here: the inserted row),
    // so only the write's savepoint can undo it.
    RawDb(tmp.db_file()).exec(
        "CREATE TRIGGER poison AFTER INSERT ON shadows WHEN NEW.name = 'poison' "
        "BEGIN SELECT RAISE(FAIL, 'poisoned shadow'); END;");

    auto batch = db->begin_batch();
    REQUIRE(batch);
    REQUIRE(db->put_shadow(shadow("lamp", "before", 1)));
    auto poisoned = db->put_shadow(shadow("lamp", "poison", 1));
    REQUIRE_FALSE(poisoned);
    CHECK(poisoned.error().code == base::Errc::io);
    CHECK(poisoned.error().message.find("put shadow") != std::string::npos);
    CHECK(poisoned.error().message.find("poisoned shadow") != std::string::npos);
    CHECK(poisoned.error().message.find(tmp.db_file()) != std::string::npos);
    CHECK_FALSE(db->find_shadow("lamp", "poison")->has_value());

    CHECK(db->add_device(device("lamp")).error().code == base::Errc::conflict);
    CHECK(db->put_shadow(shadow("ghost", "", 1)).error().code == base::Errc::not_found);
    CHECK(db->add_device(device("bad name")).error().code == base::Errc::invalid);
    REQUIRE(db->put_shadow(shadow("lamp", "after", 1)));
    REQUIRE(batch->commit());

    RawDb raw(tmp.db_file());
    CHECK(raw.integer("SELECT count(*) FROM shadows WHERE name = 'poison'") == 0);
    CHECK(raw.integer("SELECT count(*) FROM shadows WHERE name IN ('before', 'after')") == 2);
}

TEST_CASE("batch: a failed multi-statement write rolls back to its own savepoint only") {
    TempDir tmp;
    REQUIRE(Database::open(tmp.state_dir()));
    auto connection = detail::Connection::open(tmp.db_file());
    REQUIRE(connection);
    detail::Connection& c = **connection;
    REQUIRE(c.exec("CREATE TABLE t (x INTEGER)", "test"));

    REQUIRE(c.begin_batch());
    {
        auto first = detail::Write::begin(c, "first");
        REQUIRE(first);
        REQUIRE(c.exec("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);", "first"));
        REQUIRE(first->commit());
    }
    {
        auto second = detail::Write::begin(c, "second");
        REQUIRE(second);
        REQUIRE(c.exec("INSERT INTO t VALUES (3); INSERT INTO t VALUES (4);", "second"));
        // Not committed: only this write's two rows go.
    }
    {
        auto third = detail::Write::begin(c, "third");
        REQUIRE(third);
        REQUIRE(c.exec("INSERT INTO t VALUES (5)", "third"));
        REQUIRE(third->commit());
    }
    REQUIRE(c.commit_batch());
    CHECK_FALSE(c.batch_open());
    CHECK(RawDb(tmp.db_file()).text("SELECT group_concat(x, ',') FROM (SELECT x FROM t ORDER BY x)") ==
          "1,2,5");
}

TEST_CASE("batch: once SQLite drops the batch's transaction, later writes and the commit fail") {
    TempDir tmp;
    REQUIRE(Database::open(tmp.state_dir()));
    auto connection = detail::Connection::open(tmp.db_file());
    REQUIRE(connection);
    detail::Connection& c = **connection;
    REQUIRE(c.exec("CREATE TABLE t (x INTEGER)", "test"));

    REQUIRE(c.begin_batch());
    {
        auto write = detail::Write::begin(c, "first");
        REQUIRE(write);
        REQUIRE(c.exec("INSERT INTO t VALUES (1)", "first"));
        REQUIRE(write->commit());
    }
    // What SQLite does on its own after a full disk or an I/O error.
    REQUIRE(c.exec("ROLLBACK", "simulated automatic rollback"));

    auto late = detail::Write::begin(c, "late write");
    REQUIRE_FALSE(late);
    CHECK(late.error().code == base::Errc::io);
    CHECK(late.error().message.find("late write") != std::string::npos);
    CHECK(late.error().message.find("lost") != std::string::npos);
    CHECK(c.autocommit());  // the failed write did not start a transaction of its own

    auto commit = c.commit_batch();
    REQUIRE_FALSE(commit);
    CHECK(commit.error().code == base::Errc::io);
    CHECK(commit.error().message.find("none of its writes") != std::string::npos);
    CHECK(commit.error().message.find(tmp.db_file()) != std::string::npos);
    CHECK_FALSE(c.batch_open());
    CHECK(RawDb(tmp.db_file()).integer("SELECT count(*) FROM t") == 0);

    // Writes outside a batch work again.
    auto after = detail::Write::begin(c, "after");
    REQUIRE(after);
    REQUIRE(c.exec("INSERT INTO t VALUES (2)", "after"));
    REQUIRE(after->commit());
    CHECK(RawDb(tmp.db_file()).integer("SELECT count(*) FROM t") == 1);
}

TEST_CASE("batch: the journal's accept and finish join the batch") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    SqliteJournal journal(*db, 2);
    RawDb other(tmp.db_file());
    REQUIRE(journal.accept({"early", "t", "p", true}));

    {
        auto batch = db->begin_batch();
        REQUIRE(batch);
        for (int i = 0; i < 5; ++i) REQUIRE(journal.accept({"inv-" + std::to_string(i), "t", "p", true}));
        REQUIRE(journal.finish("early", {scheduler::Status::ok, "r", ""}));
        CHECK(journal.accept({"inv-0", "t", "p", true}).error().code == base::Errc::conflict);
        CHECK(journal.pending()->size() == 5);
        CHECK(other.integer("SELECT count(*) FROM invocations") == 1);  // "early", still pending
        CHECK(other.text("SELECT status FROM invocations WHERE id = 'early'") == "pending");
        // batch destroyed uncommitted
    }
    auto pending = journal.pending();
    REQUIRE(pending);
    REQUIRE(pending->size() == 1);
    CHECK((*pending)[0].id == "early");

    auto batch = db->begin_batch();
    REQUIRE(batch);
    for (int i = 0; i < 5; ++i) REQUIRE(journal.accept({"inv-" + std::to_string(i), "t", "p", true}));
    for (int i = 0; i < 4; ++i) REQUIRE(journal.finish("inv-" + std::to_string(i), {}));
    CHECK(other.integer("SELECT count(*) FROM invocations") == 1);
    REQUIRE(batch->commit());
    CHECK(other.integer("SELECT count(*) FROM invocations") == 4);  // 2 pending + 2 finished kept
    auto counts = journal.counts();
    REQUIRE(counts);
    CHECK(counts->pending == 2);
    CHECK(counts->finished == 2);
}

TEST_CASE("batch: journal retention stays exact after a rolled-back batch") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    constexpr std::size_t kKeep = 3;
    SqliteJournal journal(*db, kKeep);
    {
        auto batch = db->begin_batch();
        REQUIRE(batch);
        for (int i = 0; i < 6; ++i) {
            const std::string id = "gone-" + std::to_string(i);
            REQUIRE(journal.accept({id, "t", "p", true}));
            REQUIRE(journal.finish(id, {}));
        }
    }
    for (int i = 0; i < 10; ++i) {
        const std::string id = "kept-" + std::to_string(i);
        REQUIRE(journal.accept({id, "t", "p", true}));
        REQUIRE(journal.finish(id, {}));
    }
    auto counts = journal.counts();
    REQUIRE(counts);
    CHECK(counts->finished == kKeep);
    CHECK(journal.find_invocation("kept-9"));
    CHECK_FALSE(journal.find_invocation("kept-6"));
}

}  // namespace
}  // namespace gaffer::store
