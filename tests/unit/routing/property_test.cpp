// Property tests: the trie index against a straightforward reference matcher, and overlaps,
// covers and subscriptions() against brute force, over many random filters and topics.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "devices/routing/detail/filter_trie.hpp"
#include "devices/routing/routing.hpp"

using namespace gaffer;
using routing::Route;

namespace {

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> levels(1);
    for (char c : text) {
        if (c == '/') levels.emplace_back();
        else levels.back() += c;
    }
    return levels;
}

// MQTT 4.7 written as directly as possible, independent of the code under test, over
// filter and topic already split into levels.
bool reference_match(const std::vector<std::string>& f, const std::vector<std::string>& t) {
    if (t[0].starts_with('$') && (f[0] == "+" || f[0] == "#")) return false;
    std::size_t i = 0;
    for (; i < f.size(); ++i) {
        if (f[i] == "#") return true;
        if (i >= t.size()) return false;
        if (f[i] != "+" && f[i] != t[i]) return false;
    }
    return i == t.size();
}

bool reference_match(const std::string& filter, const std::string& topic) {
    return reference_match(split(filter), split(topic));
}

// Small alphabets so that random filters and topics meet often; "$x" exercises the '$'
// rule and "" empty levels.
const std::vector<std::string> kLevels = {"a", "b", "", "$x", "c"};

std::string random_topic(std::mt19937& rng, std::size_t max_levels) {
    std::string topic;
    const std::size_t n = 1 + rng() % max_levels;
    for (std::size_t i = 0; i < n; ++i) {
        if (i) topic += '/';
        topic += kLevels[rng() % kLevels.size()];
    }
    return topic.empty() ? "a" : topic;
}

std::string random_filter(std::mt19937& rng, std::size_t max_levels) {
    std::string filter;
    const std::size_t n = 1 + rng() % max_levels;
    for (std::size_t i = 0; i < n; ++i) {
        if (i) filter += '/';
        const auto pick = rng() % 8;
        if (pick == 0 && i + 1 == n) filter += '#';
        else if (pick <= 2) filter += '+';
        else filter += kLevels[rng() % kLevels.size()];
    }
    return filter.empty() ? "+" : filter;
}

// Every topic of 1..max_levels levels over `alphabet`.
std::vector<std::string> all_topics(const std::vector<std::string>& alphabet, std::size_t max_levels) {
    std::vector<std::string> out;
    std::vector<std::string> layer = {""};
    for (std::size_t depth = 1; depth <= max_levels; ++depth) {
        std::vector<std::string> next;
        for (const std::string& prefix : layer)
            for (const std::string& level : alphabet) next.push_back(depth == 1 ? level : prefix + "/" + level);
        for (const std::string& t : next)
            if (!t.empty()) out.push_back(t);
        layer = std::move(next);
    }
    return out;
}

}  // namespace

TEST_CASE("property: matches() and the trie agree with the reference matcher") {
    std::mt19937 rng(20240611);
    for (int round = 0; round < 40; ++round) {
        std::vector<Route> routes(60);
        for (std::size_t i = 0; i < routes.size(); ++i) {
            routes[i].id = static_cast<std::int64_t>(i + 1);
            routes[i].filter = random_filter(rng, 5);
            REQUIRE_MESSAGE(routing::validate_filter(routes[i].filter), routes[i].filter);
        }
        std::vector<std::vector<std::string>> filter_levels;
        for (const Route& r : routes) filter_levels.push_back(split(r.filter));
        routing::detail::FilterTrie trie;
        for (const Route& r : routes) trie.insert(r.filter, &r);
        // Remove a third again, so pruning is exercised too.
        std::set<std::int64_t> removed;
        for (const Route& r : routes)
            if (rng() % 3 == 0) {
                REQUIRE(trie.erase(r.filter, &r));
                CHECK_FALSE(trie.erase(r.filter, &r));
                removed.insert(r.id);
            }
        std::vector<const Route*> out;
        for (int t = 0; t < 200; ++t) {
            const std::string topic = random_topic(rng, 6);
            REQUIRE_MESSAGE(routing::validate_topic(topic), topic);
            const auto topic_levels = split(topic);
            std::vector<std::int64_t> expected;
            for (std::size_t i = 0; i < routes.size(); ++i) {
                const Route& r = routes[i];
                const bool want = reference_match(filter_levels[i], topic_levels);
                // One assertion per mismatch only: half a million passing CHECKs cost more
                // than the matching under the sanitizers.
                if (routing::matches(r.filter, topic) != want) FAIL_CHECK(r.filter, " vs ", topic);
                if (want && !removed.contains(r.id)) expected.push_back(r.id);
            }
            out.clear();
            trie.collect(topic, out);
            std::vector<std::int64_t> got;
            for (const Route* r : out) got.push_back(r->id);
            std::sort(got.begin(), got.end());
            CHECK_MESSAGE(got == expected, topic);
        }
        for (const Route& r : routes)
            if (!removed.contains(r.id)) REQUIRE(trie.erase(r.filter, &r));
        CHECK(trie.empty());
    }
}

TEST_CASE("property: RouteTable::match agrees with a linear scan") {
    std::mt19937 rng(7);
    routing::RouteTable table;
    std::vector<Route> routes;
    for (std::int64_t id = 1; routes.size() < 300; ++id) {
        const std::string source = rng() % 4 == 0 ? "task:t" + std::to_string(rng() % 3)
                                                   : "device:d" + std::to_string(rng() % 5);
        auto made = routing::make_route(source, random_filter(rng, 4), "task:sink");
        if (!made) continue;  // '$' first levels are refused for these routes
        made->id = id;
        if (table.add(*made)) routes.push_back(*made);
    }
    const std::vector<routing::Endpoint> sources = {
        {routing::Endpoint::Kind::device, ""}, {routing::Endpoint::Kind::device, "d1"},
        {routing::Endpoint::Kind::task, "t0"}, {routing::Endpoint::Kind::task, "t2"}};
    std::vector<const Route*> out;
    for (int t = 0; t < 250; ++t) {
        const std::string topic = random_topic(rng, 5);
        for (const routing::Endpoint& source : sources) {
            std::vector<std::int64_t> expected;
            for (const Route& r : routes) {
                const bool from = source.kind == r.source.kind &&
                                  (source.name.empty() || source.name == r.source.name);
                if (from && reference_match(r.filter, topic)) expected.push_back(r.id);
            }
            table.match(source, topic, out);
            std::vector<std::int64_t> got;
            for (const Route* r : out) got.push_back(r->id);
            CHECK_MESSAGE(got == expected, routing::to_string(source), " ", topic);
        }
    }
}

TEST_CASE("property: overlaps and covers agree with brute force over all short topics") {
    std::mt19937 rng(99);
    // Every level a filter below can name, plus one no filter names.
    std::vector<std::string> alphabet = kLevels;
    alphabet.push_back("z");
    // Filters have at most 3 levels, so past a 4th level every filter matches all deeper
    // topics or none: topics of up to 4 levels tell any two of them apart.
    std::vector<std::vector<std::string>> topics;
    for (const std::string& topic : all_topics(alphabet, 4)) topics.push_back(split(topic));
    std::map<std::string, std::vector<bool>> matched;  // filter -> matches topics[i]
    auto matches_of = [&](const std::string& filter) -> const std::vector<bool>& {
        auto [it, added] = matched.try_emplace(filter);
        if (added) {
            const auto levels = split(filter);
            for (const auto& topic : topics) it->second.push_back(reference_match(levels, topic));
        }
        return it->second;
    };
    for (int i = 0; i < 400; ++i) {
        const std::string a = random_filter(rng, 3);
        const std::string b = random_filter(rng, 3);
        const std::vector<bool>& ma = matches_of(a);
        const std::vector<bool>& mb = matches_of(b);
        bool some_both = false;
        bool b_within_a = true;
        for (std::size_t t = 0; t < topics.size(); ++t) {
            some_both = some_both || (ma[t] && mb[t]);
            b_within_a = b_within_a && (!mb[t] || ma[t]);
        }
        CHECK_MESSAGE(routing::overlaps(a, b) == some_both, a, " ~ ", b);
        CHECK_MESSAGE(routing::overlaps(b, a) == some_both, b, " ~ ", a);
        CHECK_MESSAGE(routing::covers(a, b) == b_within_a, a, " >= ", b);
        CHECK(routing::covers(a, a));
    }
}

TEST_CASE("property: subscriptions() is the set of filters no other one covers") {
    std::mt19937 rng(5);
    for (int round = 0; round < 30; ++round) {
        routing::RouteTable table;
        std::set<std::string> filters;
        for (std::int64_t id = 1; id <= 40; ++id) {
            const bool to_task = rng() % 4 != 0;
            auto made = routing::make_route("device:d" + std::to_string(rng() % 3), random_filter(rng, 4),
                                            to_task ? "task:t" : "device:sink");
            if (!made) continue;
            made->id = id;
            if (table.add(*made) && to_task) filters.insert(made->filter);
        }
        std::vector<std::string> expected;
        for (const std::string& f : filters) {
            const bool redundant = std::any_of(filters.begin(), filters.end(), [&](const std::string& g) {
                // Filters that cover each other ("#" and "+/#"): the first in order stays.
                return g != f && routing::covers(g, f) && (!routing::covers(f, g) || g < f);
            });
            if (!redundant) expected.push_back(f);
        }
        CHECK(table.subscriptions() == expected);
    }
}
