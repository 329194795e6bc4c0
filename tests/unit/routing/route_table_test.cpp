// RouteTable: add/remove bookkeeping, match per source, gafferd's subscriptions, device grants.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "devices/routing/routing.hpp"

using namespace gaffer;
using routing::Endpoint;
using routing::Route;
using routing::RouteTable;
using Kind = routing::Endpoint::Kind;

namespace {

Route route(std::int64_t id, std::string_view source, std::string_view filter, std::string_view target) {
    auto made = routing::make_route(source, filter, target);
    REQUIRE_MESSAGE(made, made.error().message);
    made->id = id;
    return *made;
}

void add(RouteTable& table, std::int64_t id, std::string_view source, std::string_view filter,
         std::string_view target) {
    auto added = table.add(route(id, source, filter, target));
    REQUIRE_MESSAGE(added, added.error().message);
}

std::vector<std::int64_t> ids(const std::vector<const Route*>& routes) {
    std::vector<std::int64_t> out;
    for (const Route* r : routes) out.push_back(r->id);
    return out;
}

const Endpoint kAnyDevice{Kind::device, ""};

}  // namespace

TEST_CASE("add: conflicts, invalid routes and the size bound") {
    RouteTable table(3);
    add(table, 1, "device:a", "things/a/#", "task:t");
    auto same_id = table.add(route(1, "device:b", "x", "task:t"));
    REQUIRE_FALSE(same_id);
    CHECK(same_id.error().code == base::Errc::conflict);
    CHECK(same_id.error().message == "route 1 exists already");
    auto same_triple = table.add(route(2, "device:a", "things/a/#", "task:t"));
    REQUIRE_FALSE(same_triple);
    CHECK(same_triple.error().code == base::Errc::conflict);
    CHECK(same_triple.error().message == "a route device:a -> task:t on \"things/a/#\" exists already");
    // Same filter and target from another source is another route.
    add(table, 2, "device:b", "things/a/#", "task:t");

    auto no_id = table.add(route(0, "device:c", "x", "task:t"));
    REQUIRE_FALSE(no_id);
    CHECK(no_id.error().code == base::Errc::invalid);
    Route invalid{4, Endpoint{Kind::cloud, ""}, "x", Endpoint{Kind::task, "t"}};
    auto refused = table.add(invalid);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message == "source: cloud routes arrive with cloud sync");

    add(table, 7, "task:t", "out", "device:c");
    auto full = table.add(route(8, "task:t", "out2", "device:c"));
    REQUIRE_FALSE(full);
    CHECK(full.error().code == base::Errc::busy);
    CHECK(table.size() == 3);

    std::vector<std::int64_t> order;
    for (const Route& r : table.all()) order.push_back(r.id);
    CHECK(order == std::vector<std::int64_t>{1, 2, 7});
    REQUIRE(table.find(7) != nullptr);
    CHECK(table.find(7)->filter == "out");
    CHECK(table.find(3) == nullptr);
}

TEST_CASE("remove: not_found, and a removed route no longer matches or grants") {
    RouteTable table;
    add(table, 5, "device:a", "things/a/temp", "task:t");
    add(table, 6, "device:a", "things/+/temp", "device:b");
    auto missing = table.remove(9);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == base::Errc::not_found);
    CHECK(missing.error().message == "no route has id 9");

    CHECK(ids(table.match(kAnyDevice, "things/a/temp")) == std::vector<std::int64_t>{5, 6});
    REQUIRE(table.remove(5));
    CHECK(ids(table.match(kAnyDevice, "things/a/temp")) == std::vector<std::int64_t>{6});
    CHECK(table.grants("a").publish == std::vector<std::string>{"things/+/temp"});
    REQUIRE(table.remove(6));
    CHECK(table.match(kAnyDevice, "things/a/temp").empty());
    CHECK(table.grants("a") == routing::Grants{});
    CHECK(table.grants("b") == routing::Grants{});
    CHECK(table.size() == 0);
    // The same route can come back (under a new id) once removed.
    add(table, 7, "device:a", "things/a/temp", "task:t");
    CHECK(ids(table.match(kAnyDevice, "things/a/temp")) == std::vector<std::int64_t>{7});
    CHECK(table.remove(5).error().code == base::Errc::not_found);
}

TEST_CASE("match: by source, ordered by id, MQTT rules") {
    RouteTable table;
    add(table, 10, "device:a", "things/+/temp", "task:ingest");
    add(table, 3, "device:b", "things/#", "task:archive");
    add(table, 4, "device:a", "things/a/temp", "device:c");
    add(table, 5, "device:c", "#", "task:all");
    add(table, 6, "task:ingest", "things/+/temp", "device:d");
    add(table, 7, "task:other", "things/a/temp", "device:d");
    add(table, 8, "shadow", "$aws/things/+/shadow/update/delta", "task:sync");
    add(table, 9, "task:sync", "$aws/things/+/shadow/update", "shadow");
    add(table, 11, "device:a", "$aws/things/a/shadow/update", "shadow");

    // A device message: the publisher is unknown, every device route that matches.
    CHECK(ids(table.match(kAnyDevice, "things/a/temp")) == std::vector<std::int64_t>{3, 4, 5, 10});
    CHECK(ids(table.match(kAnyDevice, "things/a/temp/x")) == std::vector<std::int64_t>{3, 5});
    CHECK(ids(table.match(kAnyDevice, "things")) == std::vector<std::int64_t>{3, 5});
    CHECK(ids(table.match(kAnyDevice, "other")) == std::vector<std::int64_t>{5});
    // '#' at the first level does not match '$' topics.
    CHECK(ids(table.match(kAnyDevice, "$aws/things/a/shadow/update")) == std::vector<std::int64_t>{11});
    // A named device: only its own routes.
    CHECK(ids(table.match(Endpoint{Kind::device, "a"}, "things/a/temp")) == std::vector<std::int64_t>{4, 10});
    CHECK(table.match(Endpoint{Kind::device, "zz"}, "things/a/temp").empty());
    // Tasks and shadow: exactly that source.
    CHECK(ids(table.match(Endpoint{Kind::task, "ingest"}, "things/x/temp")) == std::vector<std::int64_t>{6});
    CHECK(ids(table.match(Endpoint{Kind::task, "other"}, "things/a/temp")) == std::vector<std::int64_t>{7});
    CHECK(table.match(Endpoint{Kind::task, "other"}, "things/b/temp").empty());
    CHECK(table.match(Endpoint{Kind::task, "nobody"}, "things/a/temp").empty());
    CHECK(ids(table.match(Endpoint{Kind::shadow, ""}, "$aws/things/a/shadow/update/delta")) ==
          std::vector<std::int64_t>{8});
    CHECK(table.match(Endpoint{Kind::shadow, ""}, "$aws/things/a/shadow/update/accepted").empty());
    CHECK(ids(table.match(Endpoint{Kind::task, "sync"}, "$aws/things/a/shadow/update")) ==
          std::vector<std::int64_t>{9});
    CHECK(table.match(Endpoint{Kind::cloud, ""}, "things/a/temp").empty());

    // The out-parameter form clears what was there and reuses the vector.
    std::vector<const Route*> out{nullptr, nullptr, nullptr};
    table.match(kAnyDevice, "other", out);
    CHECK(ids(out) == std::vector<std::int64_t>{5});
    table.match(kAnyDevice, "$SYS/x", out);
    CHECK(out.empty());

    // Removing the last route of a task drops its index too.
    REQUIRE(table.remove(7));
    CHECK(table.match(Endpoint{Kind::task, "other"}, "things/a/temp").empty());
    add(table, 12, "task:other", "things/+/temp", "device:d");
    CHECK(ids(table.match(Endpoint{Kind::task, "other"}, "things/b/temp")) == std::vector<std::int64_t>{12});
}

TEST_CASE("match: empty levels and the parent level of '#'") {
    RouteTable table;
    add(table, 1, "device:a", "+/+", "task:t");
    add(table, 2, "device:a", "sport/tennis/player1/#", "task:t");
    add(table, 3, "device:a", "sport/+", "task:t");
    add(table, 4, "device:a", "a//b", "task:t");
    add(table, 5, "device:a", "a/+/b", "task:t");
    CHECK(ids(table.match(kAnyDevice, "/finance")) == std::vector<std::int64_t>{1});
    CHECK(ids(table.match(kAnyDevice, "sport/tennis/player1")) == std::vector<std::int64_t>{2});
    CHECK(ids(table.match(kAnyDevice, "sport")).empty());
    CHECK(ids(table.match(kAnyDevice, "sport/")) == std::vector<std::int64_t>{1, 3});
    CHECK(ids(table.match(kAnyDevice, "a//b")) == std::vector<std::int64_t>{4, 5});
}

TEST_CASE("subscriptions: device -> task/shadow filters, minimal") {
    RouteTable table;
    CHECK(table.subscriptions().empty());
    add(table, 1, "device:a", "things/a/temp", "task:t");
    add(table, 2, "device:b", "things/a/temp", "task:u");       // same filter: once
    add(table, 3, "device:a", "things/a/x", "device:b");       // broker carries it
    add(table, 4, "task:t", "out/#", "device:b");              // not a device message
    add(table, 5, "device:a", "$aws/things/a/shadow/update", "shadow");
    add(table, 6, "shadow", "$aws/things/+/shadow/update/delta", "task:t");
    add(table, 7, "device:c", "alerts/+", "task:t");
    CHECK(table.subscriptions() ==
          std::vector<std::string>{"$aws/things/a/shadow/update", "alerts/+", "things/a/temp"});
    // A covering filter replaces the ones it covers; device -> device does not cover.
    add(table, 8, "device:c", "things/+/#", "device:d");
    CHECK(table.subscriptions().size() == 3);
    add(table, 9, "device:c", "things/#", "task:t");
    CHECK(table.subscriptions() ==
          std::vector<std::string>{"$aws/things/a/shadow/update", "alerts/+", "things/#"});
    add(table, 10, "device:c", "#", "task:t");
    CHECK(table.subscriptions() == std::vector<std::string>{"#", "$aws/things/a/shadow/update"});
    // "+/#" and "#" match the same topics: one subscription, not two, and not none.
    add(table, 13, "device:c", "+/#", "task:t");
    CHECK(table.subscriptions() == std::vector<std::string>{"#", "$aws/things/a/shadow/update"});
    REQUIRE(table.remove(13));
    // Partial overlaps both stay.
    REQUIRE(table.remove(10));
    REQUIRE(table.remove(9));
    add(table, 11, "device:c", "alerts/x/+", "task:t");
    add(table, 12, "device:c", "alerts/+/y", "task:t");
    CHECK(table.subscriptions() == std::vector<std::string>{"$aws/things/a/shadow/update", "alerts/+",
                                                            "alerts/+/y", "alerts/x/+", "things/a/temp"});
}

TEST_CASE("grants: publish from the device's routes, subscribe from routes to it") {
    RouteTable table;
    add(table, 1, "device:a", "things/a/temp", "device:b");
    add(table, 2, "device:a", "things/a/temp", "task:t");   // same filter: one grant
    add(table, 3, "device:a", "cmd/ack", "task:t");
    add(table, 4, "task:t", "cmd/a/#", "device:a");
    add(table, 5, "shadow", "$aws/things/b/shadow/update/delta", "device:a");
    add(table, 6, "device:b", "things/b/+", "device:a");
    add(table, 7, "device:a", "$aws/things/a/shadow/update", "shadow");

    CHECK(table.grants("a") ==
          routing::Grants{{"$aws/things/a/shadow/update", "cmd/ack", "things/a/temp"},
                          {"$aws/things/b/shadow/update/delta", "cmd/a/#", "things/b/+"}});
    CHECK(table.grants("b") == routing::Grants{{"things/b/+"}, {"things/a/temp"}});
    CHECK(table.grants("c") == routing::Grants{});
    CHECK(table.grants("A") == routing::Grants{});   // thing names are case-sensitive
    REQUIRE(table.remove(2));
    CHECK(table.grants("a").publish ==
          std::vector<std::string>{"$aws/things/a/shadow/update", "cmd/ack", "things/a/temp"});
    REQUIRE(table.remove(1));
    CHECK(table.grants("a").publish == std::vector<std::string>{"$aws/things/a/shadow/update", "cmd/ack"});
    CHECK(table.grants("b").subscribe.empty());
}

TEST_CASE("a moved table keeps its routes and indexes") {
    RouteTable table;
    add(table, 1, "device:a", "things/+/temp", "task:t");
    add(table, 2, "task:t", "x", "device:b");
    RouteTable moved = std::move(table);
    CHECK(ids(moved.match(kAnyDevice, "things/z/temp")) == std::vector<std::int64_t>{1});
    CHECK(moved.grants("b").subscribe == std::vector<std::string>{"x"});
    REQUIRE(moved.remove(1));
    CHECK(moved.size() == 1);
}
