// gaffer::routing — MQTT topic names and filters, the endpoints messages move between,
// routes (source, topic filter, target; default deny), the route table that finds the routes
// a message takes, and the broker grants routes give devices. Pure: no I/O, no Paho, no
// SQLite, no libuv. Not thread-safe: one thread (gafferd's loop) owns a RouteTable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "coordinator/base/base.hpp"
#include "devices/routing/detail/filter_trie.hpp"

namespace gaffer::routing {

// ---- Topic names and filters (MQTT 3.1.1 section 4.7, MQTT 5 section 4.7) ----------------

// A topic name: 1..65535 bytes of well-formed UTF-8 without U+0000 and without '+' or '#'.
// Empty levels are legal ("a//b", "/a", "a/"). Also refused, as mosquitto refuses them (a
// PUBLISH carrying one gets the publisher disconnected): the code points MQTT says SHOULD
// NOT appear, U+0001..U+001F, U+007F..U+009F and the Unicode non-characters (U+FDD0..U+FDEF
// and U+xxFFFE/U+xxFFFF). Errc::invalid; the message says what is wrong and at which byte.
base::Result<void> validate_topic(std::string_view topic);

// A topic filter: the same text rules as a topic name, with '+' allowed only as a whole
// level and '#' only as the whole last level ("sport/#", "+/x", "#"; not "a#", "a/#/b").
base::Result<void> validate_filter(std::string_view filter);

// Whether `topic` matches `filter` by MQTT's rules: '+' matches exactly one level (which may
// be empty), '#' matches any number of levels including none ("a/#" matches "a"), and a
// topic whose first character is '$' is not matched by a filter whose first level is '+' or
// '#'. Both arguments must be valid (see above); anything else gives an unspecified answer.
bool matches(std::string_view filter, std::string_view topic);

// Whether some topic name matches both filters. Both must be valid filters.
bool overlaps(std::string_view a, std::string_view b);

// Whether every topic that matches `specific` matches `general` too ("a/#" covers "a/+/b";
// every filter covers itself). Both must be valid filters.
bool covers(std::string_view general, std::string_view specific);

// ---- Endpoints and routes --------------------------------------------------------------

// Where a message comes from or goes to. `name` is the thing name of a device, the task
// name of a task, and empty for shadow (the shadow service) and cloud.
struct Endpoint {
    enum class Kind { device, task, shadow, cloud };
    Kind kind = Kind::device;
    std::string name;
    bool operator==(const Endpoint&) const = default;
};

// Thing names: 1..128 bytes of [a-zA-Z0-9:_-]. Task names: the manifest's rule,
// [a-z0-9][a-z0-9_.-]{0,62}. Each returns the reason a name is refused, or nullopt.
std::optional<std::string> thing_name_problem(std::string_view name);
std::optional<std::string> task_name_problem(std::string_view name);

// "device:<thing>", "task:<name>", "shadow" or "cloud", exactly (lowercase, no spaces).
// Names follow the rules above. Errc::invalid with the reason.
base::Result<Endpoint> parse_endpoint(std::string_view text);

// The form parse_endpoint reads: parse_endpoint(to_string(e)) == e for every parsed e.
std::string to_string(const Endpoint& endpoint);

// One direction from `source` to `target` for messages whose topic matches `filter`.
// `id` is assigned by whoever stores routes (the state store); 0 means "not stored yet".
struct Route {
    std::int64_t id = 0;
    Endpoint source;
    std::string filter;
    Endpoint target;
    bool operator==(const Route&) const = default;
};

// A route filter has at most this many levels (bounds the route table's index depth).
inline constexpr std::size_t kMaxFilterLevels = 64;

// Checks everything about a route except its id. Errc::invalid; the message starts with the
// field ("source: ", "filter: ", "target: ") and says why. Refused:
// - endpoints with names that break the rules above, or a name on shadow/cloud;
// - cloud on either side ("cloud routes arrive with cloud sync");
// - source == target, and shadow -> shadow;
// - a filter that is not a valid MQTT filter or has more than kMaxFilterLevels levels;
// - a route from or to shadow whose filter is not under $aws/things/ (its first two levels
//   must be the literal "$aws" and "things", and a third level must follow);
// - any other route whose filter starts with '$': those topics belong to the broker ($SYS)
//   and the shadow service ($aws), and a device granted publish there could forge shadow
//   answers for other things.
base::Result<void> validate_route(const Route& route);

// Parses both endpoints and validates the route (see validate_route); the id is 0.
base::Result<Route> make_route(std::string_view source, std::string_view filter,
                               std::string_view target);

// device -> device routes: the broker carries those messages itself (gafferd only grants
// the ACLs), so gafferd must not relay them too, or the target would get them twice.
bool carried_by_broker(const Route& route);

// The devices whose broker grants change when `route` is added or removed: its source and
// its target, each when it is a device, source first. Recompute their grants() after the
// change.
std::vector<std::string> affected_devices(const Route& route);

// The broker ACL grants that routes give one device: topic filters, deduplicated, sorted.
// Only what routes give: a device's own things/{thing}/# and shadow topics are the registry's.
struct Grants {
    std::vector<std::string> publish;
    std::vector<std::string> subscribe;
    bool operator==(const Grants&) const = default;
};

// ---- The route table ------------------------------------------------------------------

// Every route gafferd knows, indexed for matching (a trie over topic levels per source, with
// '+' and '#' edges, so a match costs the topic's depth, not the number of routes) and by
// device (so grants(thing) costs that device's routes). Holds at most `max_routes` routes.
// A `const Route*` it hands out stays valid until that route is removed or the table dies.
class RouteTable {
public:
    static constexpr std::size_t kDefaultMaxRoutes = 65536;

    explicit RouteTable(std::size_t max_routes = kDefaultMaxRoutes);
    RouteTable(const RouteTable&) = delete;
    RouteTable& operator=(const RouteTable&) = delete;
    RouteTable(RouteTable&&) = default;
    RouteTable& operator=(RouteTable&&) = default;
    ~RouteTable();

    // Errc::invalid: id <= 0 (stored routes have the store's positive ids) or the route
    // fails validate_route. Errc::conflict: a route with the same id, or with the same
    // (source, filter, target), is in the table. Errc::busy: the table holds max_routes.
    base::Result<void> add(Route route);

    // Errc::not_found when no route has this id.
    base::Result<void> remove(std::int64_t id);

    // Every route, ordered by id (a view: iterate it with range-for; `const Route&` items).
    auto all() const { return std::views::values(routes_); }
    std::size_t size() const { return routes_.size(); }
    const Route* find(std::int64_t id) const;

    // The routes a message from `source` on `topic` (a valid topic name) takes, ordered by
    // id. MQTT does not tell a subscriber who published, so for a device message pass
    // Endpoint{device, ""}: every device-sourced route whose filter matches is returned.
    // A named device, a task or shadow gives only the routes from exactly that endpoint.
    // device -> device routes are included: see carried_by_broker().
    // The out-parameter form clears `out` and reuses its capacity: with a vector kept by the
    // caller, a match allocates nothing (the fast path for gafferd's message loop).
    void match(const Endpoint& source, std::string_view topic,
               std::vector<const Route*>& out) const;
    std::vector<const Route*> match(const Endpoint& source, std::string_view topic) const;

    // What gafferd subscribes to on the broker to see the device messages it has to move:
    // the filters of device -> task and device -> shadow routes (not device -> device: the
    // broker carries those). Sorted, deduplicated, and minimal: a filter covered by another
    // one in the set is left out, since the broker may deliver one copy per matching
    // subscription. Partially overlapping filters ("a/+" and "+/b") can still both match a
    // topic; whoever subscribes must process such a message once.
    std::vector<std::string> subscriptions() const;

    // The broker grants routes give device `thing`: publish on the filter of every route
    // whose source is that device, subscribe on the filter of every route whose target is
    // that device (from any source). Empty for a thing no route names.
    Grants grants(std::string_view thing) const;

private:
    using RouteList = std::vector<const Route*>;
    using ThingIndex = std::unordered_map<std::string, RouteList, detail::StringHash, std::equal_to<>>;

    detail::FilterTrie* trie_for(const Endpoint& source);
    const detail::FilterTrie* trie_for(const Endpoint& source) const;

    std::size_t max_routes_;
    std::map<std::int64_t, Route> routes_;  // owns the routes; node-based, so addresses stay
    std::unordered_set<std::string> keys_;  // "source\0filter\0target" of every route
    detail::FilterTrie from_devices_;
    detail::FilterTrie from_shadow_;
    std::unordered_map<std::string, detail::FilterTrie, detail::StringHash, std::equal_to<>> from_tasks_;
    ThingIndex by_source_device_;
    ThingIndex by_target_device_;
};

}  // namespace gaffer::routing
