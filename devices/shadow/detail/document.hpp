// Shadow document operations on parsed JSON: the pieces the Service composes. Pure;
// no I/O. Private to devices/shadow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace gaffer::shadow::detail {

using Json = nlohmann::json;

// One pass over raw bytes: is it valid UTF-8 (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF), and how deep do brackets nest outside strings (a cheap guard
// before handing the text to the parser)?
struct ByteScan {
    bool utf8 = true;
    std::size_t depth = 0;
};
ByteScan scan_bytes(std::string_view text);

// Levels of `value`: each object or array is one level, its own included; scalars are
// 0. Stops counting once past `limit` (returns limit + 1), so cost is bounded.
std::size_t nesting_levels(const Json& value, std::size_t limit);

// Does any array anywhere in `value` hold a null element?
bool array_holds_null(const Json& value);

// A stored shadow: state {"desired"?, "reported"?} and metadata mirroring it.
struct Document {
    Json state = Json::object();
    Json metadata = Json::object();
};

// Parses a Stored::document. nullopt when it is not the object Service writes.
std::optional<Document> parse_document(std::string_view text);

// Applies one section of an update request ("desired" or "reported"; `value` an object
// or null) to `doc`: objects merge recursively, null deletes a key (a null section
// deletes the section), anything else replaces the value; every written leaf gets
// {"timestamp": now} in the metadata. An emptied section is removed.
void apply_section(Document& doc, const std::string& section, const Json& value,
                   std::int64_t now);

// Metadata for the fields of a request state ({"desired"?, "reported"?}): the same tree
// with {"timestamp": now} on every leaf (null leaves included).
Json request_metadata(const Json& request_state, std::int64_t now);

// The delta of a document: desired fields whose value differs from reported (objects
// recursively, arrays and other values whole, fields missing from reported included).
// An empty object when there is none.
Json compute_delta(const Document& doc);

// The desired metadata of the delta's fields (AWS: "its values are equal to the
// metadata in the desired field").
Json delta_metadata(const Json& delta, const Document& doc);

// Does the request's desired section write a field that is in the delta?
bool request_touches_delta(const Json& request_desired, const Json& delta);

// `object_text` (a JSON object) with "version": version appended as its last member.
std::string with_version(std::string_view object_text, std::int64_t version);

}  // namespace gaffer::shadow::detail
