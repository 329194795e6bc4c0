#include "devices/routing/detail/filter_trie.hpp"

#include <algorithm>

#include "devices/routing/detail/topic_text.hpp"
#include "devices/routing/routing.hpp"

namespace gaffer::routing::detail {

struct FilterTrie::Node {
    std::unordered_map<std::string, std::unique_ptr<Node>, StringHash, std::equal_to<>> children;
    std::unique_ptr<Node> plus;
    std::vector<const Route*> exact;  // filters that end at this node
    std::vector<const Route*> rest;   // filters that end with '#' right after this node

    bool empty() const { return children.empty() && !plus && exact.empty() && rest.empty(); }
};

namespace {

using Node = FilterTrie::Node;
constexpr std::size_t kEnd = std::string_view::npos;

bool remove_one(std::vector<const Route*>& list, const Route* route) {
    auto it = std::find(list.begin(), list.end(), route);
    if (it == list.end()) return false;
    list.erase(it);
    return true;
}

// Pruning on the way back up keeps the trie no larger than the routes it holds, however
// often routes come and go.
bool erase_at(Node& node, LevelReader levels, const Route* route) {
    if (levels.done()) return remove_one(node.exact, route);
    const std::string_view level = levels.next();
    if (level == "#") return remove_one(node.rest, route);
    if (level == "+") {
        if (!node.plus || !erase_at(*node.plus, levels, route)) return false;
        if (node.plus->empty()) node.plus.reset();
        return true;
    }
    auto it = node.children.find(level);
    if (it == node.children.end() || !erase_at(*it->second, levels, route)) return false;
    if (it->second->empty()) node.children.erase(it);
    return true;
}

// `start` is the offset of the next topic level, kEnd once every level is consumed.
// `wildcards` is false only at the root for a topic starting with '$', which MQTT says a
// filter starting with '+' or '#' must not match.
void collect_at(const Node& node, std::string_view topic, std::size_t start, bool wildcards,
                std::vector<const Route*>& out) {
    if (wildcards) out.insert(out.end(), node.rest.begin(), node.rest.end());
    if (start == kEnd) {
        out.insert(out.end(), node.exact.begin(), node.exact.end());
        return;
    }
    const std::size_t slash = topic.find('/', start);
    const std::string_view level =
        slash == kEnd ? topic.substr(start) : topic.substr(start, slash - start);
    const std::size_t next = slash == kEnd ? kEnd : slash + 1;
    if (!node.children.empty()) {
        auto it = node.children.find(level);
        if (it != node.children.end()) collect_at(*it->second, topic, next, true, out);
    }
    if (wildcards && node.plus) collect_at(*node.plus, topic, next, true, out);
}

struct CoverQuery {
    std::string_view filter;
    bool dollar_first;  // the filter's first level is a literal starting with '$'
    const std::function<bool(const Route&)>& accept;

    bool any(const std::vector<const Route*>& list) const {
        return std::any_of(list.begin(), list.end(),
                           [&](const Route* r) { return r->filter != filter && accept(*r); });
    }

    bool at(const Node& node, LevelReader levels, bool root) const {
        const bool wildcards = !(root && dollar_first);
        // A '#' here covers whatever is left of the filter, even nothing.
        if (wildcards && any(node.rest)) return true;
        // Filters ending here have as many levels as `filter`, with '+' where it may have a
        // literal ("+/b" for "a/b"); `filter` itself is left out by any().
        if (levels.done()) return any(node.exact);
        const std::string_view level = levels.next();
        // Only a '#' at the same point covers a '#', and those were checked above.
        if (level == "#") return false;
        if (level != "+") {
            auto it = node.children.find(level);
            if (it != node.children.end() && at(*it->second, levels, false)) return true;
        }
        return wildcards && node.plus && at(*node.plus, levels, false);
    }
};

}  // namespace

FilterTrie::FilterTrie() : root_(std::make_unique<Node>()) {}
FilterTrie::FilterTrie(FilterTrie&&) noexcept = default;
FilterTrie& FilterTrie::operator=(FilterTrie&&) noexcept = default;
FilterTrie::~FilterTrie() = default;

void FilterTrie::insert(std::string_view filter, const Route* route) {
    Node* node = root_.get();
    LevelReader levels(filter);
    while (!levels.done()) {
        const std::string_view level = levels.next();
        if (level == "#") {
            node->rest.push_back(route);
            return;
        }
        std::unique_ptr<Node>* slot = nullptr;
        if (level == "+") {
            slot = &node->plus;
        } else {
            auto it = node->children.find(level);
            if (it == node->children.end())
                it = node->children.emplace(std::string(level), nullptr).first;
            slot = &it->second;
        }
        if (!*slot) *slot = std::make_unique<Node>();
        node = slot->get();
    }
    node->exact.push_back(route);
}

bool FilterTrie::erase(std::string_view filter, const Route* route) {
    return erase_at(*root_, LevelReader(filter), route);
}

bool FilterTrie::empty() const { return root_->empty(); }

void FilterTrie::collect(std::string_view topic, std::vector<const Route*>& out) const {
    const bool system = !topic.empty() && topic.front() == '$';
    collect_at(*root_, topic, 0, !system, out);
}

bool FilterTrie::covered(std::string_view filter,
                         const std::function<bool(const Route&)>& accept) const {
    const CoverQuery query{filter, !filter.empty() && filter.front() == '$', accept};
    return query.at(*root_, LevelReader(filter), true);
}

}  // namespace gaffer::routing::detail
