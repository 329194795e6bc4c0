// gaffer::shadow — AWS-IoT-Device-Shadow-compatible shadows as pure code: shadow
// documents with AWS's semantics (merge, null deletes, delta, per-leaf metadata, version,
// errors) and a Service that turns one request on a `$aws/things/...` shadow topic into
// its answer and the publications to make. No MQTT, SQLite or loop: storage is the Store
// port, time the WallClock port. Single-threaded: call a Service from one thread (the
// daemon's loop thread). Between calls it keeps only a bounded cache of parsed documents,
// each used only for the exact stored text (version, length, hash) it was parsed from,
// so the Store stays the one source of truth.
//
// Semantics follow AWS's "Device Shadow service documents", "Device Shadow MQTT topics",
// "Interacting with shadows" and "Device Shadow error messages" pages. Where those pages
// are silent or where gafferd differs, this header says what is done instead:
//  - Timestamps are epoch SECONDS from a WallClock (base::Clock is monotonic, so it cannot
//    give epoch time; the daemon passes SystemWallClock, tests a manual one).
//  - Nesting depth is counted as AWS's own local implementation (Greengrass
//    ShadowManager) counts it: each object or array in `desired` (resp. `reported`),
//    the section's own object included, is one level; at most 6. So
//    {"desired": {"1": {"2": {"3": {"4": {"5": {"6": "x"}}}}}}} is accepted and one more
//    level is rejected.
//  - Size: the compact JSON text of the request's `state`, and of the resulting
//    {"desired", "reported"} state, may each be at most Limits::max_state_bytes (8 KiB);
//    metadata does not count (as AWS). A request payload over Limits::max_request_bytes
//    is refused (413) before it is parsed.
//  - A null inside an array is refused with 400 "Invalid JSON" (AWS says such arrays are
//    rejected but names no message).
//  - `"state": null` clears both sections (AWS's "deleting all data" example); the
//    shadow keeps existing and its version advances.
//  - Keys of `state` other than `desired` and `reported` are refused with 400 "State
//    contains an invalid node"; top-level keys other than state, clientToken and version
//    are ignored.
//  - A `version` of null is treated as absent; a version on an update of a shadow that
//    does not exist is compared with the version the shadow would continue from (0, or
//    the deleted shadow's version).
//  - /update/delta is published, per the MQTT topics page, when an accepted update's
//    request carries `desired` values that differ from `reported` (i.e. some desired
//    field of the request is part of the resulting delta); it holds the whole delta.
//  - /update/documents omits `previous` when the shadow did not exist before the update
//    (first update, or first update after a delete).
//  - Metadata of an array is one {"timestamp"} for the whole array (as AWS's example
//    document shows); an object's metadata mirrors its keys. Nested objects emptied by
//    null deletes stay as {}; an emptied `desired`/`reported` section disappears.
//  - A deleted shadow leaves a tombstone holding its version (kept without AWS's 48-hour
//    expiry), so a shadow recreated later continues the numbering.
//  - Get and delete payloads are ignored except for a "clientToken", which is echoed
//    when valid and refused (400 "Invalid clientToken") when not a string of at most 64
//    bytes. Unparsable get/delete payloads are ignored.
//  - 404 for a missing shadow reads "No shadow exists with name: <name>", <name> being
//    the shadow name, or the thing name for the classic shadow.
//  - Payloads nesting brackets more than 64 deep are refused with the nesting error
//    before they are parsed. Invalid UTF-8 is 415 "Unsupported documented encoding;
//    supported encoding is UTF-8" (AWS's wording).
//  - Documents are re-serialised compactly with object keys sorted: "the request's state
//    as sent" in /update/accepted is the same JSON value, not the same bytes. For
//    `"state": null` its metadata gives both sections one timestamp.
//  - Key names are checked on every call; an invalid one (possible only through the
//    local API) is 400 "Invalid thing name" / "Invalid shadow name" (gafferd's own).
//  - The local-API calls (get/update/remove) answer in the body and publish no rejection
//    (AWS's REST behaviour); an accepted update or delete still publishes its accepted,
//    delta and documents messages so devices hear about it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/base.hpp"

namespace gaffer::shadow {

namespace detail {
class DocumentCache;
}

// A shadow: its thing and its name; name "" is the classic (unnamed) shadow.
struct Key {
    std::string thing;
    std::string name;
    friend bool operator==(const Key&, const Key&) = default;
};

// Thing names: 1..128 bytes of [a-zA-Z0-9:_-]; shadow names: 1..64 bytes of the same.
bool valid_thing_name(std::string_view thing);
bool valid_shadow_name(std::string_view name);

enum class Operation { get, update, remove };

struct Request {
    Key key;
    Operation op;
    friend bool operator==(const Request&, const Request&) = default;
};

// Parses a request topic: $aws/things/T/shadow/{get,update,delete} or
// $aws/things/T/shadow/name/S/{get,update,delete}. nullopt for everything else: answer
// topics (accepted, rejected, delta, documents), extra or missing levels, invalid names.
std::optional<Request> parse_request_topic(std::string_view topic);

// "$aws/things/T/shadow" or "$aws/things/T/shadow/name/S". The key must be valid.
std::string topic_prefix(const Key& key);

// A stored shadow. `document` is {"state": {"desired"?, "reported"?}, "metadata":
// {"desired"?, "reported"?}} as JSON text, written by the Service; the Store keeps it
// as it is. A tombstone (deleted = true) keeps the version of the deleted shadow.
struct Stored {
    std::string document;
    std::int64_t version = 0;
    bool deleted = false;
};

// The storage port; the daemon implements it over SQLite.
class Store {
public:
    virtual ~Store() = default;
    // nullopt when the shadow was never stored. Errors: any (answered 500).
    virtual base::Result<std::optional<Stored>> load(const Key& key) = 0;
    // Replaces the shadow (or writes its tombstone). Errors: any (answered 500; the
    // Service then publishes nothing but the rejection).
    virtual base::Result<void> save(const Key& key, const Stored& stored) = 0;
    // Is this a registered device? Unknown things are answered 404 "Thing not found".
    virtual bool thing_exists(std::string_view thing) = 0;
};

// Wall-clock time for the documents' timestamps.
class WallClock {
public:
    virtual ~WallClock() = default;
    virtual std::int64_t epoch_seconds() const = 0;
};

class SystemWallClock final : public WallClock {
public:
    std::int64_t epoch_seconds() const override { return base::wall_epoch_millis() / 1000; }
};

struct Publication {
    std::string topic;
    std::string payload;
};

// code: 200 when accepted, else the AWS error code. body: the accepted document or the
// error document {"code", "message", "timestamp", "clientToken"?}. publications: what
// to publish, in order.
struct Reply {
    int code = 200;
    std::string body;
    std::vector<Publication> publications;
};

struct Limits {
    std::size_t max_state_bytes = 8192;     // request state and resulting state (413)
    std::size_t max_depth = 6;              // levels in desired / reported (400)
    std::size_t max_client_token = 64;      // bytes (400)
    std::size_t max_request_bytes = 131072; // whole payload, checked before parsing (413)
    std::size_t cached_documents = 64;      // parsed documents kept between updates; 0: none
};

class Service {
public:
    // Keeps references to store and clock: both must outlive the Service.
    Service(Store& store, const WallClock& clock, Limits limits = {});
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    // A request from MQTT. publications start with the answer on <prefix>/<op>/accepted
    // or <prefix>/<op>/rejected (its payload is also the body), followed, for an
    // accepted update, by /update/delta (when due) and /update/documents.
    Reply handle(const Request& request, std::string_view payload);

    // The same operations for the local API, the CLI and tasks. body is the answer;
    // publications hold what an accepted change announces (update: accepted, delta,
    // documents; remove: accepted); a rejection publishes nothing. client_token is
    // echoed; an invalid key or token is answered 400.
    Reply get(const Key& key, std::string_view client_token = {});
    Reply update(const Key& key, std::string_view request_json);
    Reply remove(const Key& key, std::string_view client_token = {});

private:
    // token: the clientToken encoded as a JSON string, or empty.
    Reply do_get(const Key& key, const std::string& token, bool mqtt);
    Reply do_update(const Key& key, std::string_view payload, bool mqtt);
    Reply do_remove(const Key& key, const std::string& token, bool mqtt);
    // Refuses invalid names and unknown things.
    std::optional<Reply> check_key(const Key& key, std::string_view op, const std::string& token,
                                   bool mqtt) const;
    Reply reject(const Key& key, std::string_view op, int code, std::string_view message,
                 const std::string& token, bool mqtt) const;

    Store& store_;
    const WallClock& clock_;
    Limits limits_;
    std::unique_ptr<detail::DocumentCache> cache_;
};

}  // namespace gaffer::shadow
