// Parsed-document cache: linear search, which beats hashing at the few dozen entries a
// gateway's hot shadows need.
#include "devices/shadow/detail/document_cache.hpp"

#include <algorithm>
#include <functional>
#include <string_view>

namespace gaffer::shadow::detail {
namespace {
std::size_t text_hash(const std::string& text) { return std::hash<std::string_view>{}(text); }
}  // namespace

std::vector<DocumentCache::Entry>::iterator DocumentCache::find(const Key& key) {
    return std::find_if(entries_.begin(), entries_.end(),
                        [&](const Entry& e) { return e.key == key; });
}

std::optional<Document> DocumentCache::take(const Key& key, const Stored& stored) {
    const auto it = find(key);
    if (it == entries_.end()) return std::nullopt;
    std::optional<Document> doc;
    if (it->version == stored.version && it->size == stored.document.size() &&
        it->hash == text_hash(stored.document)) {
        doc = std::move(it->doc);
    }
    entries_.erase(it);
    return doc;
}

void DocumentCache::put(const Key& key, const Stored& stored, Document doc) {
    if (capacity_ == 0) return;
    forget(key);
    if (entries_.size() >= capacity_) {
        entries_.erase(std::min_element(entries_.begin(), entries_.end(),
                                        [](const Entry& a, const Entry& b) { return a.used < b.used; }));
    }
    entries_.push_back(Entry{key, stored.version, stored.document.size(), text_hash(stored.document),
                             std::move(doc), ++clock_});
}

void DocumentCache::forget(const Key& key) {
    const auto it = find(key);
    if (it != entries_.end()) entries_.erase(it);
}

}  // namespace gaffer::shadow::detail
