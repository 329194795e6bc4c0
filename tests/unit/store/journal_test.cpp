// SqliteJournal: the scheduler's durable journal of async invocations.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "coordinator/store/store.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace gaffer::store {
namespace {

using scheduler::Invocation;
using scheduler::Outcome;
using scheduler::Status;
using test::TempDir;

Invocation async_invocation(const std::string& id, const std::string& task = "task",
                            const std::string& payload = "{}") {
    return Invocation{id, task, payload, true};
}

std::vector<std::string> pending_ids(SqliteJournal& journal) {
    auto pending = journal.pending();
    REQUIRE_MESSAGE(pending, pending.error().message);
    std::vector<std::string> ids;
    for (const auto& inv : *pending) ids.push_back(inv.id);
    return ids;
}

TEST_CASE("journal: accept, finish and pending in acceptance order") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    SqliteJournal journal(*db);

    // Ids that sort differently from their acceptance order.
    for (const char* id : {"c", "a", "d", "b"}) REQUIRE(journal.accept(async_invocation(id)));
    CHECK(pending_ids(journal) == std::vector<std::string>{"c", "a", "d", "b"});

    REQUIRE(journal.finish("a", Outcome{Status::ok, "done", ""}));
    REQUIRE(journal.finish("b", Outcome{Status::function_error, R"({"errorMessage":"x"})", "x"}));
    CHECK(pending_ids(journal) == std::vector<std::string>{"c", "d"});

    auto pending = journal.pending();
    REQUIRE(pending);
    CHECK((*pending)[0].task == "task");
    CHECK((*pending)[0].payload == "{}");
    CHECK((*pending)[0].async);

    auto counts = journal.counts();
    REQUIRE(counts);
    CHECK(counts->pending == 2);
    CHECK(counts->finished == 2);
}

TEST_CASE("journal: a duplicate id is a conflict, pending or finished") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    SqliteJournal journal(*db);
    REQUIRE(journal.accept(async_invocation("dup", "task", "first")));

    auto again = journal.accept(async_invocation("dup", "other", "second"));
    REQUIRE_FALSE(again);
    CHECK(again.error().code == base::Errc::conflict);
    CHECK(again.error().message.find("dup") != std::string::npos);

    REQUIRE(journal.finish("dup", Outcome{}));
    auto after_finish = journal.accept(async_invocation("dup"));
    REQUIRE_FALSE(after_finish);
    CHECK(after_finish.error().code == base::Errc::conflict);

    auto record = journal.find_invocation("dup");
    REQUIRE(record);
    CHECK(record->payload == "first");  // the original was not overwritten
    CHECK(record->task == "task");
}

TEST_CASE("journal: finish of an unknown or finished id, and bad invocations") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    SqliteJournal journal(*db);

    auto unknown = journal.finish("nope", Outcome{});
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code == base::Errc::not_found);

    REQUIRE(journal.accept(async_invocation("once")));
    REQUIRE(journal.finish("once", Outcome{Status::ok, "first", ""}));
    auto twice = journal.finish("once", Outcome{Status::crashed, "second", ""});
    REQUIRE_FALSE(twice);
    CHECK(twice.error().code == base::Errc::conflict);
    auto record = journal.find_invocation("once");
    REQUIRE(record);
    CHECK(record->outcome.status == Status::ok);
    CHECK(record->outcome.payload == "first");

    auto no_id = journal.accept(async_invocation(""));
    REQUIRE_FALSE(no_id);
    CHECK(no_id.error().code == base::Errc::invalid);
    auto no_task = journal.accept(async_invocation("x", ""));
    REQUIRE_FALSE(no_task);
    CHECK(no_task.error().code == base::Errc::invalid);

    auto missing = journal.find_invocation("nope");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == base::Errc::not_found);
}

TEST_CASE("journal: find_invocation returns the whole record, binary payloads intact") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    SqliteJournal journal(*db);

    const std::string binary("\x00\x01\xff\x00zz", 6);
    const std::int64_t before = base::wall_epoch_millis();
    REQUIRE(journal.accept(async_invocation("bin", "resizer", binary)));
    REQUIRE(journal.accept(async_invocation("empty", "resizer", "")));

    auto pending = journal.find_invocation("bin");
    REQUIRE(pending);
    CHECK(pending->id == "bin");
    CHECK(pending->task == "resizer");
    CHECK(pending->payload == binary);
    CHECK_FALSE(pending->finished);
    CHECK(pending->accepted_at >= before);
    CHECK(pending->finished_at == 0);

    REQUIRE(journal.finish("bin", Outcome{Status::out_of_memory, binary, "killed at 64M"}));
    auto finished = journal.find_invocation("bin");
    REQUIRE(finished);
    CHECK(finished->finished);
    CHECK(finished->outcome.status == Status::out_of_memory);
    CHECK(finished->outcome.payload == binary);
    CHECK(finished->outcome.detail == "killed at 64M");
    CHECK(finished->finished_at >= finished->accepted_at);

    auto empty = journal.find_invocation("empty");
    REQUIRE(empty);
    CHECK(empty->payload.empty());
    auto listed = journal.pending();
    REQUIRE(listed);
    REQUIRE(listed->size() == 1);
    CHECK((*listed)[0].payload.empty());
}

TEST_CASE("journal: every outcome status survives the round trip") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    SqliteJournal journal(*db);
    const Status all[] = {Status::ok,      Status::function_error, Status::timeout,
                          Status::out_of_memory, Status::crashed, Status::init_error,
                          Status::cancelled};
    for (Status status : all) {
        const std::string id = "s" + std::to_string(static_cast<int>(status));
        REQUIRE(journal.accept(async_invocation(id)));
        REQUIRE(journal.finish(id, Outcome{status, "", ""}));
        auto record = journal.find_invocation(id);
        REQUIRE(record);
        CHECK(record->outcome.status == status);
    }
}

TEST_CASE("journal: retention keeps the newest finished records and every pending one") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    constexpr std::size_t kKeep = 10;
    SqliteJournal journal(*db, kKeep);

    REQUIRE(journal.accept(async_invocation("still-pending")));
    constexpr int kFinished = 197;
    for (int i = 0; i < kFinished; ++i) {
        const std::string id = "f" + std::to_string(i);
        REQUIRE(journal.accept(async_invocation(id)));
        REQUIRE(journal.finish(id, Outcome{Status::ok, "r", ""}));
    }
    auto counts = journal.counts();
    REQUIRE(counts);
    CHECK(counts->finished == kKeep);
    CHECK(counts->pending == 1);

    auto trimmed = journal.trim();
    REQUIRE(trimmed);
    CHECK(*trimmed == counts->finished - kKeep);
    auto after = journal.counts();
    REQUIRE(after);
    CHECK(after->finished == kKeep);
    CHECK(after->pending == 1);

    // The survivors are the newest ones.
    for (int i = 0; i < kFinished; ++i) {
        const bool kept = journal.find_invocation("f" + std::to_string(i)).has_value();
        CHECK_MESSAGE(kept == (i >= kFinished - static_cast<int>(kKeep)), "record f" << i);
    }
    CHECK(journal.find_invocation("still-pending"));
    auto again = journal.trim();
    REQUIRE(again);
    CHECK(*again == 0);
}

TEST_CASE("journal: the first finish after opening trims what an earlier run left") {
    TempDir tmp;
    {
        auto db = Database::open(tmp.state_dir());
        REQUIRE(db);
        SqliteJournal generous(*db, 1000);
        for (int i = 0; i < 30; ++i) {
            const std::string id = "old" + std::to_string(i);
            REQUIRE(generous.accept(async_invocation(id)));
            REQUIRE(generous.finish(id, Outcome{}));
        }
    }
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    SqliteJournal strict(*db, 5);
    REQUIRE(strict.accept(async_invocation("new")));
    REQUIRE(strict.finish("new", Outcome{}));
    auto counts = strict.counts();
    REQUIRE(counts);
    CHECK(counts->finished == 5);
    CHECK(strict.find_invocation("new"));
}

}  // namespace
}  // namespace gaffer::store
