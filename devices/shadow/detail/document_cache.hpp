// A small cache of parsed shadow documents, so that a burst of updates to the same
// shadow does not parse its stored text again each time (parsing is about half of an
// update's work). An entry is only used for exactly the stored text it was made from:
// same version, same length, same hash. Bounded; least recently used entries go first.
// Private to devices/shadow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "devices/shadow/detail/document.hpp"
#include "devices/shadow/shadow.hpp"

namespace gaffer::shadow::detail {

class DocumentCache {
public:
    explicit DocumentCache(std::size_t capacity) : capacity_(capacity) {}

    // The parsed form of `stored` for `key`, if cached; the entry leaves the cache (the
    // caller changes the document and puts the result back).
    std::optional<Document> take(const Key& key, const Stored& stored);
    // Remembers `doc` as the parsed form of `stored`.
    void put(const Key& key, const Stored& stored, Document doc);
    void forget(const Key& key);

private:
    struct Entry {
        Key key;
        std::int64_t version = 0;
        std::size_t size = 0;
        std::size_t hash = 0;
        Document doc;
        std::uint64_t used = 0;
    };
    std::vector<Entry>::iterator find(const Key& key);

    std::size_t capacity_;
    std::uint64_t clock_ = 0;
    std::vector<Entry> entries_;
};

}  // namespace gaffer::shadow::detail
