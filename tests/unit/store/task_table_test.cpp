// The tasks table of coordinator/store.
#include <doctest/doctest.h>

#include "coordinator/store/store.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace gaffer::store {
namespace {

using test::TempDir;

TEST_CASE("tasks: put, list in name order, replace, set state, remove") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE_MESSAGE(db, db.error().message);

    auto empty = db->list_tasks();
    REQUIRE(empty);
    CHECK(empty->empty());

    const std::int64_t before = base::wall_epoch_millis();
    REQUIRE(db->put_task("zeta", R"({"name":"zeta"})", "enabled"));
    REQUIRE(db->put_task("alpha", R"({"name":"alpha","v":1})", "enabled"));
    auto two = db->list_tasks();
    REQUIRE(two);
    REQUIRE(two->size() == 2);
    CHECK((*two)[0].name == "alpha");
    CHECK((*two)[0].manifest_json == R"({"name":"alpha","v":1})");
    CHECK((*two)[0].state == "enabled");
    CHECK((*two)[0].updated_at >= before);
    CHECK((*two)[0].updated_at <= base::wall_epoch_millis());
    CHECK((*two)[1].name == "zeta");

    // Putting an existing name replaces its row rather than adding one.
    REQUIRE(db->put_task("alpha", R"({"name":"alpha","v":2})", "disabled"));
    REQUIRE(db->set_task_state("zeta", "broken"));
    auto replaced = db->list_tasks();
    REQUIRE(replaced);
    REQUIRE(replaced->size() == 2);
    CHECK((*replaced)[0].manifest_json == R"({"name":"alpha","v":2})");
    CHECK((*replaced)[0].state == "disabled");
    CHECK((*replaced)[1].state == "broken");
    CHECK((*replaced)[1].manifest_json == R"({"name":"zeta"})");

    REQUIRE(db->remove_task("alpha"));
    auto one = db->list_tasks();
    REQUIRE(one);
    REQUIRE(one->size() == 1);
    CHECK((*one)[0].name == "zeta");
}

TEST_CASE("tasks: removing or updating a missing task is not_found") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    auto removed = db->remove_task("ghost");
    REQUIRE_FALSE(removed);
    CHECK(removed.error().code == base::Errc::not_found);
    CHECK(removed.error().message.find("ghost") != std::string::npos);

    auto updated = db->set_task_state("ghost", "broken");
    REQUIRE_FALSE(updated);
    CHECK(updated.error().code == base::Errc::not_found);
}

TEST_CASE("tasks: bad names, states and manifests are invalid and leave no row") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    const std::string long_name(Database::kMaxNameBytes + 1, 'n');
    const std::string long_state(Database::kMaxStateBytes + 1, 's');

    struct Case {
        std::string name, manifest, state;
    };
    const Case cases[] = {
        {"", "{}", "enabled"},
        {long_name, "{}", "enabled"},
        {"t", "{}", ""},
        {"t", "{}", long_state},
        {"t", "{not json", "enabled"},
        {"t", "", "enabled"},
    };
    for (const Case& c : cases) {
        auto put = db->put_task(c.name, c.manifest, c.state);
        REQUIRE_FALSE(put);
        CHECK(put.error().code == base::Errc::invalid);
    }
    auto none = db->list_tasks();
    REQUIRE(none);
    CHECK(none->empty());

    REQUIRE(db->put_task("t", "{}", "enabled"));
    auto bad_state = db->set_task_state("t", long_state);
    REQUIRE_FALSE(bad_state);
    CHECK(bad_state.error().code == base::Errc::invalid);
}

}  // namespace
}  // namespace gaffer::store
