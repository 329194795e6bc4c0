// The route table's index: a trie over the levels of topic filters. Each node is a filter
// prefix; its edges are literal levels, '+' (one level of anything), and routes whose filter
// ends in '#' at that point hang on the node itself. Matching a topic walks its levels once,
// following at most the literal and the '+' edge at each node, so it costs the topic's depth
// times the number of '+' branches taken, not the number of routes.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gaffer::routing {
struct Route;
}

namespace gaffer::routing::detail {

// Lets unordered maps keyed by std::string be searched with a std::string_view, without
// building a std::string (an allocation) per lookup. Deliberately not noexcept: libstdc++
// then stores each key's hash in its node, and a lookup walking a bucket compares stored
// hashes instead of rehashing every key it passes (that rehashing was a third of match()).
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
        return std::hash<std::string_view>{}(text);
    }
};

class FilterTrie {
public:
    FilterTrie();
    FilterTrie(FilterTrie&&) noexcept;
    FilterTrie& operator=(FilterTrie&&) noexcept;
    ~FilterTrie();

    // `filter` must be a valid filter; `route` must outlive its entry here.
    void insert(std::string_view filter, const Route* route);
    // Removes the entry and the nodes it alone kept alive. False when it was not there.
    bool erase(std::string_view filter, const Route* route);
    bool empty() const;

    // Appends every route whose filter matches `topic` (a valid topic name), in no order.
    void collect(std::string_view topic, std::vector<const Route*>& out) const;

    // Whether a route accepted by `accept`, with a filter other than `filter` itself, has a
    // filter that covers `filter` (see routing::covers). Of the one pair of different
    // filters that cover each other, "#" and "+/#", only "+/#" counts as covered, so that
    // dropping every covered filter from a set keeps one of them.
    bool covered(std::string_view filter, const std::function<bool(const Route&)>& accept) const;

    struct Node;  // defined in filter_trie.cpp

private:
    std::unique_ptr<Node> root_;
};

}  // namespace gaffer::routing::detail
