// The route table: routes owned by id, indexed by source (a filter trie each) and by device.
#include <algorithm>

#include "devices/routing/routing.hpp"

namespace gaffer::routing {
namespace {

using base::Errc;

// NUL cannot appear in an endpoint or a valid filter, so it separates the three fields.
std::string key_of(const Route& route) {
    std::string key = to_string(route.source);
    key += '\0';
    key += route.filter;
    key += '\0';
    key += to_string(route.target);
    return key;
}

void drop(std::vector<const Route*>& list, const Route* route) {
    list.erase(std::remove(list.begin(), list.end(), route), list.end());
}

template <class Index>
void unindex(Index& index, std::string_view thing, const Route* route) {
    auto it = index.find(thing);
    if (it == index.end()) return;
    drop(it->second, route);
    if (it->second.empty()) index.erase(it);
}

std::vector<std::string> sorted_unique(std::vector<std::string> filters) {
    std::sort(filters.begin(), filters.end());
    filters.erase(std::unique(filters.begin(), filters.end()), filters.end());
    return filters;
}

bool by_id(const Route* a, const Route* b) { return a->id < b->id; }

bool subscribed_by_gafferd(const Route& route) {
    return route.source.kind == Endpoint::Kind::device &&
           (route.target.kind == Endpoint::Kind::task || route.target.kind == Endpoint::Kind::shadow);
}

}  // namespace

RouteTable::RouteTable(std::size_t max_routes) : max_routes_(max_routes) {}
RouteTable::~RouteTable() = default;

detail::FilterTrie* RouteTable::trie_for(const Endpoint& source) {
    switch (source.kind) {
    case Endpoint::Kind::device:
        return &from_devices_;
    case Endpoint::Kind::shadow:
        return &from_shadow_;
    case Endpoint::Kind::task: {
        auto it = from_tasks_.find(source.name);
        return it == from_tasks_.end() ? nullptr : &it->second;
    }
    case Endpoint::Kind::cloud:
        return nullptr;
    }
    return nullptr;
}

const detail::FilterTrie* RouteTable::trie_for(const Endpoint& source) const {
    return const_cast<RouteTable*>(this)->trie_for(source);
}

base::Result<void> RouteTable::add(Route route) {
    if (route.id <= 0)
        return base::fail(Errc::invalid, "route id " + std::to_string(route.id) +
                                             " is not a stored route's id (ids are positive)");
    if (auto ok = validate_route(route); !ok) return ok;
    if (routes_.contains(route.id))
        return base::fail(Errc::conflict, "route " + std::to_string(route.id) + " exists already");
    std::string key = key_of(route);
    if (keys_.contains(key))
        return base::fail(Errc::conflict, "a route " + to_string(route.source) + " -> " +
                                              to_string(route.target) + " on \"" + route.filter +
                                              "\" exists already");
    if (routes_.size() >= max_routes_)
        return base::fail(Errc::busy, "the route table is full (" + std::to_string(max_routes_) +
                                          " routes); remove routes before adding more");

    const std::int64_t id = route.id;
    const Route* stored = &routes_.emplace(id, std::move(route)).first->second;
    keys_.insert(std::move(key));
    if (stored->source.kind == Endpoint::Kind::task && !from_tasks_.contains(stored->source.name))
        from_tasks_.emplace(stored->source.name, detail::FilterTrie());
    trie_for(stored->source)->insert(stored->filter, stored);
    if (stored->source.kind == Endpoint::Kind::device)
        by_source_device_[stored->source.name].push_back(stored);
    if (stored->target.kind == Endpoint::Kind::device)
        by_target_device_[stored->target.name].push_back(stored);
    return {};
}

base::Result<void> RouteTable::remove(std::int64_t id) {
    auto it = routes_.find(id);
    if (it == routes_.end())
        return base::fail(Errc::not_found, "no route has id " + std::to_string(id));
    const Route* route = &it->second;
    detail::FilterTrie* trie = trie_for(route->source);
    trie->erase(route->filter, route);
    if (route->source.kind == Endpoint::Kind::task && trie->empty()) from_tasks_.erase(route->source.name);
    if (route->source.kind == Endpoint::Kind::device)
        unindex(by_source_device_, route->source.name, route);
    if (route->target.kind == Endpoint::Kind::device)
        unindex(by_target_device_, route->target.name, route);
    keys_.erase(key_of(*route));
    routes_.erase(it);
    return {};
}

const Route* RouteTable::find(std::int64_t id) const {
    auto it = routes_.find(id);
    return it == routes_.end() ? nullptr : &it->second;
}

void RouteTable::match(const Endpoint& source, std::string_view topic,
                       std::vector<const Route*>& out) const {
    out.clear();
    const detail::FilterTrie* trie = trie_for(source);
    if (trie == nullptr) return;
    trie->collect(topic, out);
    if (source.kind == Endpoint::Kind::device && !source.name.empty())
        std::erase_if(out, [&](const Route* r) { return r->source.name != source.name; });
    if (out.size() > 1) std::sort(out.begin(), out.end(), by_id);
}

std::vector<const Route*> RouteTable::match(const Endpoint& source, std::string_view topic) const {
    std::vector<const Route*> out;
    match(source, topic, out);
    return out;
}

std::vector<std::string> RouteTable::subscriptions() const {
    std::vector<std::string> filters;
    for (const Route& route : all())
        if (subscribed_by_gafferd(route)) filters.push_back(route.filter);
    filters = sorted_unique(std::move(filters));
    const std::function<bool(const Route&)> accept = subscribed_by_gafferd;
    std::erase_if(filters, [&](const std::string& f) { return from_devices_.covered(f, accept); });
    return filters;
}

Grants RouteTable::grants(std::string_view thing) const {
    Grants grants;
    if (auto it = by_source_device_.find(thing); it != by_source_device_.end())
        for (const Route* route : it->second) grants.publish.push_back(route->filter);
    if (auto it = by_target_device_.find(thing); it != by_target_device_.end())
        for (const Route* route : it->second) grants.subscribe.push_back(route->filter);
    grants.publish = sorted_unique(std::move(grants.publish));
    grants.subscribe = sorted_unique(std::move(grants.subscribe));
    return grants;
}

}  // namespace gaffer::routing
