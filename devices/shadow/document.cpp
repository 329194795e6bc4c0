// Shadow document operations: merge with null deletes, metadata, delta, limits.
#include "devices/shadow/detail/document.hpp"

#include <algorithm>

namespace gaffer::shadow::detail {
namespace {

Json stamp(std::int64_t now) {
    Json leaf = Json::object();
    leaf["timestamp"] = now;
    return leaf;
}

void merge_object(Json& target, Json& meta, const Json& patch, std::int64_t now) {
    for (auto it = patch.begin(); it != patch.end(); ++it) {
        const Json& value = it.value();
        if (value.is_null()) {
            target.erase(it.key());
            meta.erase(it.key());
            continue;
        }
        if (value.is_object()) {
            Json& child = target[it.key()];
            Json& child_meta = meta[it.key()];
            // A value that was not an object (or was absent) becomes one: its old
            // {"timestamp"} metadata must not survive as if it were a field.
            if (!child.is_object()) {
                child = Json::object();
                child_meta = Json::object();
            } else if (!child_meta.is_object()) {
                child_meta = Json::object();
            }
            merge_object(child, child_meta, value, now);
            continue;
        }
        target[it.key()] = value;
        meta[it.key()] = stamp(now);
    }
}

Json mirror(const Json& value, std::int64_t now) {
    if (!value.is_object()) return stamp(now);
    Json out = Json::object();
    for (auto it = value.begin(); it != value.end(); ++it) out[it.key()] = mirror(it.value(), now);
    return out;
}

Json diff(const Json& desired, const Json& reported) {
    Json out = Json::object();
    for (auto it = desired.begin(); it != desired.end(); ++it) {
        const auto r = reported.is_object() ? reported.find(it.key()) : reported.end();
        if (!reported.is_object() || r == reported.end()) {
            out[it.key()] = it.value();
            continue;
        }
        if (it.value().is_object() && r->is_object()) {
            Json sub = diff(it.value(), *r);
            if (!sub.empty()) out[it.key()] = std::move(sub);
            continue;
        }
        // nlohmann compares 1 and 1.0 as equal numbers, as a shadow should.
        if (it.value() != *r) out[it.key()] = it.value();
    }
    return out;
}

Json pick_metadata(const Json& delta, const Json& meta) {
    Json out = Json::object();
    if (!meta.is_object()) return out;
    for (auto it = delta.begin(); it != delta.end(); ++it) {
        const auto m = meta.find(it.key());
        if (m == meta.end()) continue;
        out[it.key()] = it.value().is_object() && m->is_object() ? pick_metadata(it.value(), *m) : *m;
    }
    return out;
}

const Json& member_or_empty(const Json& object, const char* key) {
    static const Json empty = Json::object();
    const auto it = object.find(key);
    return it == object.end() ? empty : *it;
}

}  // namespace

ByteScan scan_bytes(std::string_view text) {
    ByteScan out;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = p[i];
        if (c < 0x80) {
            if (in_string) {
                if (escaped) escaped = false;
                else if (c == '\\') escaped = true;
                else if (c == '"') in_string = false;
            } else if (c == '"') {
                in_string = true;
            } else if (c == '{' || c == '[') {
                if (++depth > out.depth) out.depth = depth;
            } else if ((c == '}' || c == ']') && depth > 0) {
                --depth;
            }
            ++i;
            continue;
        }
        escaped = false;
        std::size_t length = 0;
        std::uint32_t code = 0;
        std::uint32_t smallest = 0;
        if ((c & 0xE0) == 0xC0) {
            length = 2, code = c & 0x1F, smallest = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            length = 3, code = c & 0x0F, smallest = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            length = 4, code = c & 0x07, smallest = 0x10000;
        } else {
            out.utf8 = false;
            return out;
        }
        if (n - i < length) {
            out.utf8 = false;
            return out;
        }
        for (std::size_t k = 1; k < length; ++k) {
            const unsigned char next = p[i + k];
            if ((next & 0xC0) != 0x80) {
                out.utf8 = false;
                return out;
            }
            code = (code << 6) | (next & 0x3F);
        }
        if (code < smallest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            out.utf8 = false;
            return out;
        }
        i += length;
    }
    return out;
}

std::size_t nesting_levels(const Json& value, std::size_t limit) {
    if (!value.is_structured()) return 0;
    if (limit == 0) return 1;
    std::size_t deepest = 0;
    for (const auto& child : value) {
        deepest = std::max(deepest, nesting_levels(child, limit - 1));
        if (deepest >= limit) break;
    }
    return deepest + 1;
}

bool array_holds_null(const Json& value) {
    if (!value.is_structured()) return false;
    for (const auto& child : value) {
        if (value.is_array() && child.is_null()) return true;
        if (array_holds_null(child)) return true;
    }
    return false;
}

std::optional<Document> parse_document(std::string_view text) {
    Json parsed = Json::parse(text, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
    Document doc;
    if (const auto s = parsed.find("state"); s != parsed.end()) {
        if (!s->is_object()) return std::nullopt;
        doc.state = std::move(*s);
    }
    if (const auto m = parsed.find("metadata"); m != parsed.end()) {
        if (!m->is_object()) return std::nullopt;
        doc.metadata = std::move(*m);
    }
    return doc;
}

void apply_section(Document& doc, const std::string& section, const Json& value,
                   std::int64_t now) {
    if (value.is_null()) {
        doc.state.erase(section);
        doc.metadata.erase(section);
        return;
    }
    Json& target = doc.state[section];
    Json& meta = doc.metadata[section];
    if (!target.is_object()) target = Json::object();
    if (!meta.is_object()) meta = Json::object();
    merge_object(target, meta, value, now);
    if (target.empty()) {
        doc.state.erase(section);
        doc.metadata.erase(section);
    }
}

Json request_metadata(const Json& request_state, std::int64_t now) {
    return mirror(request_state, now);
}

Json compute_delta(const Document& doc) {
    return diff(member_or_empty(doc.state, "desired"), member_or_empty(doc.state, "reported"));
}

Json delta_metadata(const Json& delta, const Document& doc) {
    return pick_metadata(delta, member_or_empty(doc.metadata, "desired"));
}

bool request_touches_delta(const Json& request_desired, const Json& delta) {
    if (!request_desired.is_object() || !delta.is_object()) return false;
    for (auto it = request_desired.begin(); it != request_desired.end(); ++it) {
        if (it.value().is_null()) continue;
        const auto d = delta.find(it.key());
        if (d == delta.end()) continue;
        if (it.value().is_object() && d->is_object() && !it.value().empty()) {
            if (request_touches_delta(it.value(), *d)) return true;
            continue;
        }
        return true;
    }
    return false;
}

std::string with_version(std::string_view object_text, std::int64_t version) {
    constexpr std::string_view kSpace = " \t\r\n";
    const std::size_t close = object_text.find_last_not_of(kSpace);
    std::string out(object_text.substr(0, close));
    const std::size_t last = out.find_last_not_of(kSpace);
    if (last != std::string::npos && out[last] != '{') out += ',';
    out += "\"version\":";
    out += std::to_string(version);
    out += '}';
    return out;
}

}  // namespace gaffer::shadow::detail
