// Crash safety: what a process committed is there after it dies without closing anything.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "coordinator/store/store.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace gaffer::store {
namespace {

using scheduler::Invocation;
using scheduler::Outcome;
using test::TempDir;

constexpr int kAccepted = 100;
constexpr int kFinished = 40;

// The child's whole life: no doctest, no return into the parent's stack. Exit codes
// above 0 say which step failed; success ends in SIGKILL, with the connection still open.
[[noreturn]] void accept_then_die(const std::string& state_dir) {
    auto db = Database::open(state_dir);
    if (!db) ::_exit(2);
    SqliteJournal journal(*db);
    for (int i = 0; i < kAccepted; ++i) {
        if (!journal.accept(Invocation{"inv-" + std::to_string(i), "task", std::to_string(i), true}))
            ::_exit(3);
    }
    for (int i = 0; i < kFinished; ++i) {
        if (!journal.finish("inv-" + std::to_string(i), Outcome{scheduler::Status::ok, "r", ""}))
            ::_exit(4);
    }
    if (!db->put_task("task", R"({"name":"task"})", "enabled")) ::_exit(5);
    ::raise(SIGKILL);
    ::_exit(6);
}

TEST_CASE("records committed before a SIGKILL are all there after reopening") {
    TempDir tmp;
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) accept_then_die(tmp.state_dir());

    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    INFO("child exit code " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1));
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    // Killed with the connection open: the commits sit in the WAL, not the main file yet.
    CHECK(std::filesystem::exists(tmp.db_file() + "-wal"));

    auto db = Database::open(tmp.state_dir());
    REQUIRE_MESSAGE(db, db.error().message);
    SqliteJournal journal(*db);
    auto pending = journal.pending();
    REQUIRE_MESSAGE(pending, pending.error().message);
    REQUIRE(pending->size() == static_cast<std::size_t>(kAccepted - kFinished));
    for (int i = kFinished; i < kAccepted; ++i) {
        const auto& inv = (*pending)[static_cast<std::size_t>(i - kFinished)];
        CHECK(inv.id == "inv-" + std::to_string(i));
        CHECK(inv.payload == std::to_string(i));
    }
    auto counts = journal.counts();
    REQUIRE(counts);
    CHECK(counts->finished == static_cast<std::uint64_t>(kFinished));
    auto tasks = db->list_tasks();
    REQUIRE(tasks);
    REQUIRE(tasks->size() == 1);
    CHECK((*tasks)[0].state == "enabled");
}

TEST_CASE("a child killed after only accepting leaves every invocation pending") {
    TempDir tmp;
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        auto db = Database::open(tmp.state_dir());
        if (!db) ::_exit(2);
        SqliteJournal journal(*db);
        for (int i = 0; i < kAccepted; ++i) {
            if (!journal.accept(Invocation{"a" + std::to_string(i), "task", "p", true})) ::_exit(3);
        }
        ::_exit(0);  // no destructors, no sqlite3_close
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);

    auto db = Database::open(tmp.state_dir());
    REQUIRE_MESSAGE(db, db.error().message);
    SqliteJournal journal(*db);
    auto pending = journal.pending();
    REQUIRE(pending);
    REQUIRE(pending->size() == static_cast<std::size_t>(kAccepted));
    CHECK((*pending).front().id == "a0");
    CHECK((*pending).back().id == "a" + std::to_string(kAccepted - 1));
}

// A batch committed before SIGKILL is all there; one still open at SIGKILL left nothing.
TEST_CASE("a committed batch survives a SIGKILL, an open one leaves no trace") {
    TempDir tmp;
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        auto db = Database::open(tmp.state_dir());
        if (!db) ::_exit(2);
        SqliteJournal journal(*db);
        StoredDevice lamp;
        lamp.thing = "lamp";
        if (!db->add_device(lamp)) ::_exit(3);
        {
            auto batch = db->begin_batch();
            if (!batch) ::_exit(4);
            for (int v = 1; v <= 100; ++v) {
                if (!db->put_shadow({"lamp", "", "{\"v\":" + std::to_string(v) + "}", v, false, v})) ::_exit(5);
                if (!journal.accept(Invocation{"kept-" + std::to_string(v), "task", "p", true})) ::_exit(6);
            }
            if (!batch->commit()) ::_exit(7);
        }
        auto open = db->begin_batch();
        if (!open) ::_exit(8);
        for (int v = 101; v <= 150; ++v) {
            if (!db->put_shadow({"lamp", "", "{}", v, false, v})) ::_exit(9);
            if (!journal.accept(Invocation{"lost-" + std::to_string(v), "task", "p", true})) ::_exit(10);
        }
        if (!db->enqueue_outbox({0, "things/lamp/cmd", "lost", 1, false, 0})) ::_exit(11);
        ::raise(SIGKILL);
        ::_exit(12);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    INFO("child exit code " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1));
    REQUIRE(WIFSIGNALED(status));

    auto db = Database::open(tmp.state_dir());
    REQUIRE_MESSAGE(db, db.error().message);
    auto lamp = db->find_shadow("lamp", "");
    REQUIRE(lamp);
    REQUIRE(lamp->has_value());
    CHECK((*lamp)->version == 100);
    CHECK((*lamp)->document == "{\"v\":100}");
    CHECK(*db->count_outbox() == 0);
    SqliteJournal journal(*db);
    auto pending = journal.pending();
    REQUIRE(pending);
    REQUIRE(pending->size() == 100);
    CHECK(pending->front().id == "kept-1");
    CHECK(pending->back().id == "kept-100");
}

}  // namespace
}  // namespace gaffer::store
