// Upgrading a schema-1 file (tasks and journal only) to the current schema in place.
#include <doctest/doctest.h>

#include <filesystem>

#include "coordinator/store/detail/connection.hpp"
#include "coordinator/store/store.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace gaffer::store {
namespace {

using test::RawDb;
using test::TempDir;

// A file as the schema-1 build left it: made by the released step 1 itself, filled
// through a plain connection with rows of every kind that build wrote.
void make_schema_1_file(const TempDir& tmp) {
    std::filesystem::create_directory(tmp.state_dir());
    {
        auto connection = detail::Connection::open(tmp.db_file());
        REQUIRE(connection);
        auto version = detail::migrate(**connection, detail::gaffer_migrations().first(1));
        REQUIRE_MESSAGE(version, version.error().message);
        REQUIRE(*version == 1);
    }
    RawDb raw(tmp.db_file());
    raw.exec("PRAGMA journal_mode = WAL");
    raw.exec(R"sql(
INSERT INTO tasks VALUES ('hello', '{"name":"hello"}', 'enabled', 1700000000000);
INSERT INTO tasks VALUES ('broken', '{"name":"broken"}', 'broken', 1700000000001);
INSERT INTO invocations (id, task, payload, accepted_at, status)
    VALUES ('inv-pending', 'hello', X'00FF01', 1700000000100, 'pending');
INSERT INTO invocations (id, task, payload, accepted_at, status, outcome_status, result, detail, finished_at)
    VALUES ('inv-done', 'hello', X'7B7D', 1700000000200, 'finished', 'function_error', X'6F6F7073', 'oops', 1700000000300);
)sql");
    REQUIRE(raw.integer("PRAGMA user_version") == 1);
    REQUIRE(raw.text("SELECT name FROM sqlite_master WHERE name = 'devices'").empty());
}

TEST_CASE("a schema-1 file upgrades in place and keeps its tasks and journal") {
    TempDir tmp;
    make_schema_1_file(tmp);
    REQUIRE(Database::supported_schema_version() == 2);

    auto db = Database::open(tmp.state_dir());
    REQUIRE_MESSAGE(db, db.error().message);
    CHECK(db->schema_version() == 2);
    CHECK(RawDb(tmp.db_file()).integer("PRAGMA user_version") == 2);

    auto tasks = db->list_tasks();
    REQUIRE(tasks);
    REQUIRE(tasks->size() == 2);
    CHECK((*tasks)[0].name == "broken");
    CHECK((*tasks)[0].state == "broken");
    CHECK((*tasks)[1].name == "hello");
    CHECK((*tasks)[1].manifest_json == R"({"name":"hello"})");
    CHECK((*tasks)[1].updated_at == 1700000000000);

    SqliteJournal journal(*db);
    auto pending = journal.pending();
    REQUIRE(pending);
    REQUIRE(pending->size() == 1);
    CHECK((*pending)[0].id == "inv-pending");
    CHECK((*pending)[0].payload == std::string("\x00\xff\x01", 3));
    auto done = journal.find_invocation("inv-done");
    REQUIRE_MESSAGE(done, done.error().message);
    CHECK(done->finished);
    CHECK(done->outcome.status == scheduler::Status::function_error);
    CHECK(done->outcome.payload == "oops");
    CHECK(done->outcome.detail == "oops");
    CHECK(done->finished_at == 1700000000300);

    // The new tables work on the upgraded file, and the journal keeps accepting.
    StoredDevice device;
    device.thing = "lamp";
    REQUIRE(db->add_device(device));
    REQUIRE(db->put_shadow({"lamp", "", "{}", 1, false, 1}));
    REQUIRE(db->add_route("device:lamp", "things/lamp/#", "task:hello"));
    REQUIRE(db->enqueue_outbox({0, "things/lamp/cmd", "on", 1, false, 0}));
    CHECK(*db->count_outbox() == 1);
    REQUIRE(journal.accept({"inv-new", "hello", "p", true}));
    REQUIRE(journal.finish("inv-pending", {scheduler::Status::ok, "r", ""}));
}

TEST_CASE("upgrading is done once: reopening an upgraded file changes nothing") {
    TempDir tmp;
    make_schema_1_file(tmp);
    {
        auto db = Database::open(tmp.state_dir());
        REQUIRE(db);
        StoredDevice device;
        device.thing = "lamp";
        REQUIRE(db->add_device(device));
        REQUIRE(db->enqueue_outbox({0, "t", "p", 1, false, 0}));
    }
    auto db = Database::open(tmp.state_dir());
    REQUIRE_MESSAGE(db, db.error().message);
    CHECK(db->schema_version() == 2);
    CHECK(*db->count_devices() == 1);
    CHECK(*db->count_outbox() == 1);  // the size row was not reset by a second step 2
    CHECK(db->list_tasks()->size() == 2);
}

TEST_CASE("schema step 2 creates the device tables, the outbox size row and its triggers") {
    TempDir tmp;
    REQUIRE(Database::open(tmp.state_dir()));
    RawDb raw(tmp.db_file());
    for (const char* name : {"devices", "shadows", "routes", "outbox", "outbox_size",
                             "outbox_counted_insert", "outbox_counted_delete"}) {
        CHECK_MESSAGE(raw.text(std::string("SELECT name FROM sqlite_master WHERE name = '") + name + "'") == name,
                      name);
    }
    CHECK(raw.integer("SELECT n FROM outbox_size WHERE id = 0") == 0);
    CHECK(raw.text("PRAGMA foreign_key_check").empty());
}

}  // namespace
}  // namespace gaffer::store
