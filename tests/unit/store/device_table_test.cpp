// The devices and shadows tables of coordinator/store.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "coordinator/store/store.hpp"
#include "tests/unit/store/store_fixture.hpp"

namespace gaffer::store {
namespace {

using test::RawDb;
using test::TempDir;
using test::check_error;
using test::device;
using test::shadow;

TEST_CASE("devices: add, find, update, presence, remove") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE_MESSAGE(db, db.error().message);

    StoredDevice d = device("sensor-1");
    d.groups = {"sensors", "floor-2", "sensors"};  // stored sorted and unique
    CHECK(db->has_device("sensor-1") == false);
    REQUIRE(db->add_device(d));
    CHECK(db->has_device("sensor-1") == true);
    auto found = db->find_device("sensor-1");
    REQUIRE_MESSAGE(found, found.error().message);
    CHECK(found->thing == "sensor-1");
    CHECK(found->attributes_json == R"({"model":"t1000"})");
    CHECK(found->groups == std::vector<std::string>{"floor-2", "sensors"});
    CHECK(found->created_at == 1700000000123);
    CHECK_FALSE(found->connected);
    CHECK(found->presence_changed_at == 0);
    CHECK(found->credentials == "pending");

    check_error(db->add_device(device("sensor-1")), base::Errc::conflict, "sensor-1");

    StoredDevice changed = *found;
    changed.attributes_json = R"({"model":"t2000","rev":2})";
    changed.groups = {};
    changed.credentials = "active";
    changed.created_at = 5;  // ignored: creation time stays
    REQUIRE(db->update_device(changed));
    auto updated = db->find_device("sensor-1");
    REQUIRE(updated);
    CHECK(updated->attributes_json == R"({"model":"t2000","rev":2})");
    CHECK(updated->groups.empty());
    CHECK(updated->credentials == "active");
    CHECK(updated->created_at == 1700000000123);

    REQUIRE(db->set_device_presence("sensor-1", true, 1700000000999));
    auto present = db->find_device("sensor-1");
    REQUIRE(present);
    CHECK(present->connected);
    CHECK(present->presence_changed_at == 1700000000999);
    REQUIRE(db->set_device_presence("sensor-1", false, 1700000001000));
    CHECK_FALSE(db->find_device("sensor-1")->connected);

    REQUIRE(db->remove_device("sensor-1"));
    check_error(db->find_device("sensor-1"), base::Errc::not_found, tmp.db_file());
    CHECK(db->has_device("sensor-1") == false);
    auto count = db->count_devices();
    REQUIRE(count);
    CHECK(*count == 0);
}

TEST_CASE("devices: a missing device is not_found for every call that names one") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    check_error(db->find_device("ghost"), base::Errc::not_found, "ghost");
    check_error(db->update_device(device("ghost")), base::Errc::not_found, "ghost");
    check_error(db->remove_device("ghost"), base::Errc::not_found, "ghost");
    check_error(db->set_device_presence("ghost", true, 1), base::Errc::not_found, "ghost");
    check_error(db->put_shadow(shadow("ghost", "", 1)), base::Errc::not_found, "ghost");
    check_error(db->list_shadow_names("ghost"), base::Errc::not_found, "ghost");
    auto none = db->find_shadow("ghost", "");
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
}

TEST_CASE("devices: bad fields are invalid and leave no row") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    std::vector<StoredDevice> bad;
    for (std::string thing : {std::string(), std::string(129, 'a'), std::string("a b"),
                              std::string("a/b"), std::string("a#"), std::string("caf\xc3\xa9")}) {
        bad.push_back(device(thing));
    }
    for (std::string attributes : {"[]", "not json", "", "42", R"({"a":)"}) {
        bad.push_back(device("d"));
        bad.back().attributes_json = attributes;
    }
    bad.push_back(device("d"));
    bad.back().attributes_json = R"({"big":")" + std::string(Database::kMaxAttributesBytes, 'x') + "\"}";
    bad.push_back(device("d"));
    bad.back().groups = {"ok", "not ok"};
    bad.push_back(device("d"));
    bad.back().groups = {""};
    bad.push_back(device("d"));
    for (std::size_t i = 0; i <= Database::kMaxGroups; ++i) bad.back().groups.push_back("g" + std::to_string(i));
    bad.push_back(device("d"));
    bad.back().credentials = "";
    bad.push_back(device("d"));
    bad.back().credentials = std::string(Database::kMaxStateBytes + 1, 'c');
    bad.push_back(device("d"));
    bad.back().created_at = -1;
    bad.push_back(device("d"));
    bad.back().presence_changed_at = -1;

    for (const StoredDevice& d : bad) {
        INFO("thing " << d.thing << " attributes " << d.attributes_json.substr(0, 20));
        check_error(db->add_device(d), base::Errc::invalid);
    }
    auto count = db->count_devices();
    REQUIRE(count);
    CHECK(*count == 0);

    // The same checks guard update_device.
    REQUIRE(db->add_device(device("d")));
    StoredDevice not_object = device("d");
    not_object.attributes_json = "[1]";
    check_error(db->update_device(not_object), base::Errc::invalid, "JSON object");
    CHECK(db->find_device("d")->attributes_json == R"({"model":"t1000"})");

    // The longest valid name, and every allowed character.
    REQUIRE(db->add_device(device(std::string(128, 'z'))));
    REQUIRE(db->add_device(device("AZaz09:_-")));
}

TEST_CASE("devices: list pages through every device in name order") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    constexpr int kDevices = 2345;
    {
        auto batch = db->begin_batch();
        REQUIRE(batch);
        // Inserted out of name order on purpose.
        for (int i = kDevices - 1; i >= 0; --i) {
            char name[16];
            std::snprintf(name, sizeof name, "dev-%05d", i);
            REQUIRE(db->add_device(device(name)));
        }
        REQUIRE(batch->commit());
    }
    auto count = db->count_devices();
    REQUIRE(count);
    CHECK(*count == kDevices);

    std::vector<std::string> seen;
    std::string after;
    int pages = 0;
    for (;;) {
        auto page = db->list_devices(after, 1000);
        REQUIRE_MESSAGE(page, page.error().message);
        if (page->empty()) break;
        ++pages;
        CHECK(page->size() <= 1000);
        for (const auto& d : *page) seen.push_back(d.thing);
        after = page->back().thing;
    }
    CHECK(pages == 3);
    REQUIRE(seen.size() == kDevices);
    for (int i = 0; i < kDevices; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "dev-%05d", i);
        CHECK(seen[static_cast<std::size_t>(i)] == name);
    }
    auto first = db->list_devices();
    REQUIRE(first);
    CHECK(first->size() == 1000);
    CHECK(first->front().groups == std::vector<std::string>{"floor-2", "sensors"});
    auto none = db->list_devices("dev-00000", 0);
    REQUIRE(none);
    CHECK(none->empty());
    auto tail = db->list_devices("dev-02343");
    REQUIRE(tail);
    REQUIRE(tail->size() == 1);
    CHECK(tail->front().thing == "dev-02344");
}

TEST_CASE("shadows: put, replace, find, list names, deleted ones") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    REQUIRE(db->add_device(device("lamp")));

    auto none = db->list_shadow_names("lamp");
    REQUIRE(none);
    CHECK(none->empty());
    auto missing = db->find_shadow("lamp", "");
    REQUIRE(missing);
    CHECK_FALSE(missing->has_value());

    REQUIRE(db->put_shadow(shadow("lamp", "", 1)));
    REQUIRE(db->put_shadow(shadow("lamp", "zeta", 1)));
    REQUIRE(db->put_shadow(shadow("lamp", "config", 1)));
    REQUIRE(db->put_shadow(shadow("lamp", "", 2)));  // replaces the classic one

    auto classic = db->find_shadow("lamp", "");
    REQUIRE(classic);
    REQUIRE(classic->has_value());
    CHECK((*classic)->thing == "lamp");
    CHECK((*classic)->name.empty());
    CHECK((*classic)->version == 2);
    CHECK((*classic)->document == shadow("lamp", "", 2).document);
    CHECK_FALSE((*classic)->deleted);
    CHECK((*classic)->updated_at == 1700000000002);

    auto names = db->list_shadow_names("lamp");
    REQUIRE(names);
    CHECK(*names == std::vector<std::string>{"", "config", "zeta"});

    StoredShadow gone = shadow("lamp", "config", 5);
    gone.deleted = true;
    gone.document = "";
    REQUIRE(db->put_shadow(gone));
    auto after_delete = db->list_shadow_names("lamp");
    REQUIRE(after_delete);
    CHECK(*after_delete == std::vector<std::string>{"", "zeta"});
    auto kept = db->find_shadow("lamp", "config");  // the row stays: its version carries on
    REQUIRE(kept);
    REQUIRE(kept->has_value());
    CHECK((*kept)->deleted);
    CHECK((*kept)->version == 5);
}

TEST_CASE("shadows: bad names, versions and documents are invalid") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    REQUIRE(db->add_device(device("lamp")));
    check_error(db->put_shadow(shadow("lamp", "bad name", 1)), base::Errc::invalid, "shadow name");
    check_error(db->put_shadow(shadow("lamp", std::string(65, 'n'), 1)), base::Errc::invalid);
    check_error(db->put_shadow(shadow("la mp", "", 1)), base::Errc::invalid, "thing name");
    check_error(db->put_shadow(shadow("lamp", "", -1)), base::Errc::invalid, "version");
    StoredShadow big = shadow("lamp", "", 1);
    big.document.assign(Database::kMaxShadowDocumentBytes + 1, ' ');
    check_error(db->put_shadow(big), base::Errc::invalid, "over the limit");
    auto names = db->list_shadow_names("lamp");
    REQUIRE(names);
    CHECK(names->empty());
    REQUIRE(db->put_shadow(shadow("lamp", std::string(64, 'n'), 1)));
}

TEST_CASE("remove_device removes its shadows and only its shadows") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    REQUIRE(db->add_device(device("a")));
    REQUIRE(db->add_device(device("b")));
    for (const char* name : {"", "one", "two"}) {
        REQUIRE(db->put_shadow(shadow("a", name, 1)));
        REQUIRE(db->put_shadow(shadow("b", name, 1)));
    }
    REQUIRE(db->remove_device("a"));

    RawDb raw(tmp.db_file());
    CHECK(raw.integer("SELECT count(*) FROM shadows WHERE thing = 'a'") == 0);
    CHECK(raw.integer("SELECT count(*) FROM shadows WHERE thing = 'b'") == 3);
    REQUIRE(db->add_device(device("a")));  // a new device of the same name starts bare
    auto names = db->list_shadow_names("a");
    REQUIRE(names);
    CHECK(names->empty());
    auto old = db->find_shadow("a", "one");
    REQUIRE(old);
    CHECK_FALSE(old->has_value());
}

TEST_CASE("devices and shadows survive closing and reopening") {
    TempDir tmp;
    {
        auto db = Database::open(tmp.state_dir());
        REQUIRE(db);
        REQUIRE(db->add_device(device("keep")));
        REQUIRE(db->set_device_presence("keep", true, 77));
        REQUIRE(db->put_shadow(shadow("keep", "named", 9)));
    }
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    auto d = db->find_device("keep");
    REQUIRE(d);
    CHECK(d->connected);
    CHECK(d->presence_changed_at == 77);
    CHECK(d->groups == std::vector<std::string>{"floor-2", "sensors"});
    auto s = db->find_shadow("keep", "named");
    REQUIRE(s);
    REQUIRE(s->has_value());
    CHECK((*s)->version == 9);
}

TEST_CASE("a device row whose groups column is damaged reads as io, naming device and file") {
    TempDir tmp;
    auto db = Database::open(tmp.state_dir());
    REQUIRE(db);
    REQUIRE(db->add_device(device("hurt")));
    RawDb(tmp.db_file()).exec("UPDATE devices SET groups_json = '{\"x\":1}' WHERE thing = 'hurt'");
    check_error(db->find_device("hurt"), base::Errc::io, "hurt");
    check_error(db->list_devices(), base::Errc::io, tmp.db_file());
}

}  // namespace
}  // namespace gaffer::store
