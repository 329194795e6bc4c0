// Opening, settings and schema migrations of coordinator/store.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "coordinator/store/detail/connection.hpp"
#include "coordinator/store/store.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace gaffer::store {
namespace {

using test::RawDb;
using test::TempDir;

TEST_CASE("open on an empty directory creates it 0700 and migrates to the latest schema") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE_MESSAGE(db, db.error().message);

    struct stat st {};
    REQUIRE(::stat(tmp.state_dir().c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK((st.st_mode & 07777) == 0700);

    CHECK(db->path() == tmp.db_file());
    CHECK(std::filesystem::exists(tmp.db_file()));
    CHECK(Database::supported_schema_version() >= 1);
    CHECK(db->schema_version() == Database::supported_schema_version());

    RawDb raw(tmp.db_file());
    CHECK(raw.integer("PRAGMA user_version") == Database::supported_schema_version());
    CHECK(raw.integer("PRAGMA application_id") == 0x47414646);
    CHECK(raw.text("SELECT name FROM sqlite_master WHERE name = 'tasks'") == "tasks");
    CHECK(raw.text("SELECT name FROM sqlite_master WHERE name = 'invocations'") == "invocations");
    CHECK(raw.text("PRAGMA journal_mode") == "wal");  // persistent: visible from any connection
}

TEST_CASE("every connection runs with WAL, synchronous=FULL, busy_timeout and foreign keys") {
    TempDir tmp;
    for (int round = 0; round < 2; ++round) {  // a fresh file, then a reopened one
        auto db = Database::open(tmp.state_dir());
        REQUIRE_MESSAGE(db, db.error().message);
        auto settings = db->settings();
        REQUIRE_MESSAGE(settings, settings.error().message);
        CHECK(settings->journal_mode == "wal");
        CHECK(settings->synchronous == 2);
        CHECK(settings->busy_timeout_ms == 5000);
        CHECK(settings->foreign_keys);
    }
}

TEST_CASE("reopening keeps tasks and journal records") {
    TempDir tmp;
    {
        auto db = Database::open(tmp.state_dir());
        REQUIRE_MESSAGE(db, db.error().message);
        REQUIRE(db->put_task("hello", R"({"name":"hello"})", "enabled"));
        SqliteJournal journal(*db);
        REQUIRE(journal.accept({"inv-1", "hello", "payload-1", true}));
        REQUIRE(journal.accept({"inv-2", "hello", "payload-2", true}));
        REQUIRE(journal.finish("inv-1", {scheduler::Status::ok, "result-1", ""}));
    }
    auto db = Database::open(tmp.state_dir());
    REQUIRE_MESSAGE(db, db.error().message);
    CHECK(db->schema_version() == Database::supported_schema_version());
    auto tasks = db->list_tasks();
    REQUIRE(tasks);
    REQUIRE(tasks->size() == 1);
    CHECK((*tasks)[0].name == "hello");
    CHECK((*tasks)[0].manifest_json == R"({"name":"hello"})");

    SqliteJournal journal(*db);
    auto pending = journal.pending();
    REQUIRE(pending);
    REQUIRE(pending->size() == 1);
    CHECK((*pending)[0].id == "inv-2");
    auto finished = journal.find_invocation("inv-1");
    REQUIRE(finished);
    CHECK(finished->finished);
    CHECK(finished->outcome.payload == "result-1");
}

TEST_CASE("a database whose schema is newer than the code is refused") {
    TempDir tmp;
    REQUIRE(Database::open(tmp.state_dir()));
    const int newer = Database::supported_schema_version() + 1;
    RawDb(tmp.db_file()).exec("PRAGMA user_version = " + std::to_string(newer));

    auto db = Database::open(tmp.state_dir());
    REQUIRE_FALSE(db);
    CHECK(db.error().code == base::Errc::invalid);
    CHECK(db.error().message.find("newer") != std::string::npos);
    CHECK(db.error().message.find(tmp.db_file()) != std::string::npos);
    // Refusing must not have changed the file.
    CHECK(RawDb(tmp.db_file()).integer("PRAGMA user_version") == newer);
}

TEST_CASE("a file that is not Gaffer's is refused untouched") {
    TempDir tmp;
    std::filesystem::create_directory(tmp.state_dir());
    RawDb(tmp.db_file()).exec("CREATE TABLE tasks (x); PRAGMA user_version = 3;");

    auto db = Database::open(tmp.state_dir());
    REQUIRE_FALSE(db);
    CHECK(db.error().code == base::Errc::invalid);
    CHECK(db.error().message.find("not a Gaffer database") != std::string::npos);
    CHECK(RawDb(tmp.db_file()).text("PRAGMA journal_mode") == "delete");
}

TEST_CASE("a state directory that is a file, or whose parent is missing, is an error") {
    TempDir tmp;
    std::ofstream(tmp.state_dir()) << "not a directory";
    auto as_file = Database::open(tmp.state_dir());
    REQUIRE_FALSE(as_file);
    CHECK(as_file.error().code == base::Errc::invalid);

    auto orphan = Database::open(tmp.path() + "/missing/state");
    REQUIRE_FALSE(orphan);
    CHECK(orphan.error().code == base::Errc::io);
    CHECK(orphan.error().message.find("missing/state") != std::string::npos);
}

TEST_CASE("migrate applies each step in its own transaction and stops at a failing one") {
    TempDir tmp;
    std::filesystem::create_directory(tmp.state_dir());
    auto connection = detail::Connection::open(tmp.db_file());
    REQUIRE(connection);

    static constexpr char kOne[] = "CREATE TABLE one (x); PRAGMA user_version = 1;";
    static constexpr char kTwo[] = "CREATE TABLE two (x); PRAGMA user_version = 2;";
    // Fails after its first statement: the table it made must be rolled back.
    static constexpr char kBadThree[] =
        "CREATE TABLE three (x); INSERT INTO no_such_table VALUES (1); PRAGMA user_version = 3;";
    static constexpr char kThree[] = "CREATE TABLE three (x); PRAGMA user_version = 3;";

    const detail::Migration bad[] = {{1, kOne}, {2, kTwo}, {3, kBadThree}};
    auto failed = detail::migrate(**connection, bad);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == base::Errc::io);
    CHECK(failed.error().message.find("schema migration 3") != std::string::npos);
    CHECK(failed.error().message.find("no_such_table") != std::string::npos);
    {
        RawDb raw(tmp.db_file());
        CHECK(raw.integer("PRAGMA user_version") == 2);
        CHECK(raw.text("SELECT name FROM sqlite_master WHERE name = 'two'") == "two");
        CHECK(raw.text("SELECT name FROM sqlite_master WHERE name = 'three'").empty());
    }

    const detail::Migration fixed[] = {{1, kOne}, {2, kTwo}, {3, kThree}};
    auto done = detail::migrate(**connection, fixed);
    REQUIRE_MESSAGE(done, done.error().message);
    CHECK(*done == 3);
    auto again = detail::migrate(**connection, fixed);  // nothing left to do
    REQUIRE(again);
    CHECK(*again == 3);
    CHECK(RawDb(tmp.db_file()).text("SELECT name FROM sqlite_master WHERE name = 'three'") == "three");
}

TEST_CASE("a failing SQLite call is io, naming the operation, SQLite's message and the file") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    REQUIRE(db->list_tasks());  // its statement is now cached
    RawDb(tmp.db_file()).exec("DROP TABLE tasks");

    auto cached = db->list_tasks();  // fails when stepped (re-prepare against the new schema)
    REQUIRE_FALSE(cached);
    CHECK(cached.error().code == base::Errc::io);
    CHECK(cached.error().message.find("list tasks") != std::string::npos);
    CHECK(cached.error().message.find("no such table: tasks") != std::string::npos);
    CHECK(cached.error().message.find(tmp.db_file()) != std::string::npos);

    auto fresh = db->remove_task("x");  // fails in prepare
    REQUIRE_FALSE(fresh);
    CHECK(fresh.error().code == base::Errc::io);
    CHECK(fresh.error().message.find("remove task") != std::string::npos);
    CHECK(fresh.error().message.find("no such table: tasks") != std::string::npos);
}

TEST_CASE("a journal keeps working after its Database is moved") {
    TempDir tmp;
    auto opened = Database::open(tmp.state_dir());
    REQUIRE(opened);
    Database db = std::move(*opened);
    SqliteJournal journal(db);
    Database moved = std::move(db);
    REQUIRE(journal.accept({"inv-1", "t", "p", true}));
    auto pending = journal.pending();
    REQUIRE(pending);
    CHECK(pending->size() == 1);
    CHECK(moved.path() == tmp.db_file());
}

}  // namespace
}  // namespace gaffer::store
