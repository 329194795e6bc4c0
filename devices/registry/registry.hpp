// gaffer::registry — the devices gafferd knows: their records (validated), their broker
// credentials and ACLs (mosquitto's dynamic-security plugin, driven by JSON commands on
// $CONTROL/dynamic-security/v1), and their presence (connected / disconnected, read from
// the broker's own log lines).
//
// Pure domain code: no Paho, no SQLite, no libuv. It reaches the world through ports:
//   DeviceStore  the device records (the daemon implements it over SQLite),
//   BrokerAdmin  "run these dynsec commands, give me the responses" (DynsecAdmin below is
//                the real one, over a publish function, an Alarm and fed responses).
//
// Threading: everything here is loop-thread only. Every asynchronous operation completes
// through its callback on the loop thread, exactly once (unless the object that owns the
// operation is destroyed first: then the callback is dropped, never called).
//
// Broker configuration presence needs (mosquitto 2.0.11):
//   log_dest topic            publishes log lines on $SYS/broker/log/<level>
//   log_type notice           connection lines are NOTICE: $SYS/broker/log/N
//   connection_messages true  (the default) the connect / disconnect lines themselves
// gafferd subscribes $SYS/broker/log/N (the dynsec admin role may; devices may not).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/base/base.hpp"

namespace gaffer::registry {

// ---- device records ------------------------------------------------------------------

inline constexpr std::size_t kMaxThingName = 128;
inline constexpr std::size_t kMaxAttributes = 50;
inline constexpr std::size_t kMaxGroups = 16;
inline constexpr std::size_t kMaxDeviceJson = 8 * 1024;

// 1..128 bytes of [a-zA-Z0-9:_-]; Errc::invalid naming the offending byte otherwise.
base::Result<void> validate_thing_name(std::string_view thing);
// Group names follow the same rule as thing names.
base::Result<void> validate_group_name(std::string_view group);

struct Device {
    std::string thing;
    nlohmann::json attributes = nlohmann::json::object();  // name -> string|number|bool
    std::vector<std::string> groups;                       // distinct, in given order
};

// Parses {"thing": "...", "attributes": {...}, "groups": [...]} strictly ("thing" required,
// the others optional). Unknown keys, wrong types, more than 50 attributes, attribute
// values that are not string/number/bool, more than 8 KiB of input, more than 16 groups,
// duplicate or bad group names: Errc::invalid with a message naming the field.
base::Result<Device> parse_device(std::string_view json);
// The inverse: the same object shape parse_device accepts.
nlohmann::json to_json(const Device& device);

// 128 random bits from getrandom(2), as 22 characters of unpadded base64url.
// Aborts if the kernel cannot give randomness (a programmer/system error, not input).
std::string generate_password();

// ---- ACLs ----------------------------------------------------------------------------

// What routes grant one device (same shape as routing::Grants; the daemon copies).
struct Grants {
    std::vector<std::string> publish, subscribe;  // MQTT topic filters
};

// One dynsec ACL entry. Higher priority is checked first; the first match decides.
struct Acl {
    std::string type;  // publishClientSend, publishClientReceive, subscribePattern, ...
    std::string topic;
    bool allow = true;
    int priority = 0;
    bool operator==(const Acl&) const = default;
};

inline constexpr std::string_view kDeviceRolePrefix = "gaffer-device-";
inline constexpr std::string_view kCoreRole = "gaffer-core";

std::string role_name(std::string_view thing);  // "gaffer-device-{thing}"

// The whole ACL set of one device's role:
//   things/{thing}/#                   publishClientSend, subscribePattern, publishClientReceive
//   $aws/things/{thing}/shadow/#       the same three
//   each grants.publish filter         publishClientSend
//   each grants.subscribe filter       subscribePattern + publishClientReceive
//   #  and  $aws/#                     publishClientReceive DENIED at priority -1, so that a
//                                      subscription made under a grant that was later
//                                      withdrawn stops delivering at once (dynsec's default
//                                      allows receiving, and modifyRole keeps subscriptions).
// Everything else falls to the broker's defaults (publish and subscribe denied).
// Errc::invalid for a bad thing name, an empty / oversized / malformed filter (wildcard
// misuse, NUL), or a filter under "$" other than "$aws/things/" ($SYS, $CONTROL).
// Duplicate entries are merged.
base::Result<std::vector<Acl>> device_acls(std::string_view thing, const Grants& grants);

// gafferd's own role: publish, subscribe and receive everything: "#", "$aws/#",
// "$CONTROL/dynamic-security/#", and subscribe/receive "$SYS/#" (broker log lines).
std::vector<Acl> core_acls();

// ---- dynsec commands (pure builders; each returns one command object) ----------------

inline constexpr std::string_view kControlTopic = "$CONTROL/dynamic-security/v1";
inline constexpr std::string_view kResponseTopic = "$CONTROL/dynamic-security/v1/response";

using Command = nlohmann::json;

// createClient with username = clientid = thing, so no other client id is accepted.
Command create_client_command(std::string_view thing, std::string_view password,
                              std::string_view role);
Command delete_client_command(std::string_view username);  // also disconnects it
Command set_password_command(std::string_view username, std::string_view password);  // disconnects it
Command get_client_command(std::string_view username);
Command list_clients_command();  // verbose: usernames, client ids and roles of all clients
Command add_client_role_command(std::string_view username, std::string_view role);
Command create_role_command(std::string_view role, const std::vector<Acl>& acls);
// Replaces the role's whole ACL list (mosquitto 2.0.11 semantics); connected clients stay.
Command modify_role_command(std::string_view role, const std::vector<Acl>& acls);
Command delete_role_command(std::string_view role);
Command list_roles_command();  // verbose: every role with its ACLs

// The control payload {"commands": [...]} (correlation data is DynsecAdmin's business).
std::string commands_payload(const std::vector<Command>& commands);

// One entry of a response payload.
struct CommandResult {
    std::string command;                 // e.g. "createClient"
    std::optional<std::string> error;    // the broker's text, e.g. "Client already exists"
    nlohmann::json data;                 // "data" of get/list commands, else null
    std::optional<std::string> correlation;
    bool ok() const { return !error; }
};

// Parses {"responses": [...]} from kResponseTopic. Errc::invalid if it is not that shape.
base::Result<std::vector<CommandResult>> parse_responses(std::string_view payload);

// How a failed result should be treated: "... already exists" -> conflict, "... not found"
// -> not_found, anything else -> invalid. The message names the command and the error.
base::Error result_error(const CommandResult& result);

// ---- broker admin port ---------------------------------------------------------------

class BrokerAdmin {
public:
    // One result per command, in order; an error when the batch as a whole got no answer
    // (timeout, unavailable, busy).
    using Done = std::function<void(base::Result<std::vector<CommandResult>>)>;
    virtual ~BrokerAdmin() = default;
    virtual void execute(std::vector<Command> commands, Done done) = 0;
};

// A one-shot timer (the daemon wraps loop::Timer). arm() replaces any earlier arming.
class Alarm {
public:
    virtual ~Alarm() = default;
    virtual void arm(base::Duration after, std::function<void()> fire) = 0;
    virtual void disarm() = 0;
};

// The real BrokerAdmin: publishes each batch on kControlTopic with a correlationData per
// command ("<instance nonce>:<request>:<index>"), matches answers fed from kResponseTopic,
// fails a batch with Errc::timeout after Options::timeout, and refuses new batches with
// Errc::busy while Options::max_in_flight are outstanding. Answers for other admins or an
// earlier gafferd process (a persistent session redelivers them) are ignored.
class DynsecAdmin final : public BrokerAdmin {
public:
    // Hands the payload to the MQTT client (QoS 1); an error fails the batch at once.
    using Publish = std::function<base::Result<void>(std::string_view topic, std::string payload)>;
    struct Options {
        std::chrono::milliseconds timeout{10000};
        std::size_t max_in_flight = 16;
        std::size_t max_commands = 200;  // per batch; more is Errc::invalid
    };

    DynsecAdmin(Publish publish, Alarm& alarm, const base::Clock& clock, Options options);
    DynsecAdmin(Publish publish, Alarm& alarm, const base::Clock& clock)
        : DynsecAdmin(std::move(publish), alarm, clock, Options{}) {}
    ~DynsecAdmin() override;  // drops the callbacks of batches still outstanding
    DynsecAdmin(const DynsecAdmin&) = delete;
    DynsecAdmin& operator=(const DynsecAdmin&) = delete;

    // `done` runs before execute() returns when the batch is refused at once (empty: an
    // empty result; too many commands: invalid; max_in_flight reached: busy; publish failed).
    void execute(std::vector<Command> commands, Done done) override;

    // Every message received on kResponseTopic goes here. Returns true when it completed
    // one of this instance's batches.
    bool feed(std::string_view topic, std::string_view payload);

    // The MQTT connection dropped: every outstanding batch fails with `reason` now.
    void fail_all(const base::Error& reason);

    std::size_t in_flight() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// ---- presence ------------------------------------------------------------------------

inline constexpr std::string_view kPresenceTopic = "$SYS/broker/log/N";

struct PresenceEvent {
    std::string thing;
    bool connected = false;
    bool operator==(const PresenceEvent&) const = default;
};

// Reads one of mosquitto 2.0.11's NOTICE log lines (with or without its "<time>: "
// prefix) published on kPresenceTopic:
//   "New client connected from <addr>:<port> as <id> (p5, c1, k60, u'<id>')."  connected,
//       only when the username equals the client id (a device's; gafferd's own is not)
//   "Client <id> disconnected." / "... disconnected: <reason>." / "... closed its
//       connection." / "... has exceeded timeout, disconnecting." / "... been disconnected
//       by administrative action." / "... disconnected due to <reason>." /
//       "Bad socket read/write on client <id>: <error>"                      disconnected
// Anything else (other topics, "not authorised" refusals, ids that are not thing names)
// is nullopt. A takeover by the same client id logs only the new connect.
std::optional<PresenceEvent> parse_presence(std::string_view topic, std::string_view payload);

// ---- the registry --------------------------------------------------------------------

// Whether the broker holds credentials for the record:
//   pending  stored, broker not yet told (or it failed); reconcile() retries while this
//            process still holds the password in memory
//   active   the broker has the client and its role
//   missing  the broker has no client we know the password of: rotate() issues a new one
enum class Credentials { pending, active, missing };
std::string_view credentials_name(Credentials c);
std::optional<Credentials> parse_credentials(std::string_view name);

struct DeviceRecord {
    Device device;
    Credentials credentials = Credentials::pending;
};

// The records, synchronously (SQLite on the loop thread). Passwords are never stored.
class DeviceStore {
public:
    virtual ~DeviceStore() = default;
    virtual base::Result<void> insert(const DeviceRecord& record) = 0;  // conflict if present
    virtual base::Result<void> set_credentials(std::string_view thing, Credentials c) = 0;  // not_found
    virtual base::Result<void> remove(std::string_view thing) = 0;                 // not_found
    virtual base::Result<std::optional<DeviceRecord>> find(std::string_view thing) = 0;
    virtual base::Result<std::vector<DeviceRecord>> list() = 0;
    virtual base::Result<std::size_t> count() = 0;
};

struct Presence {
    bool connected = false;
    std::int64_t since_ms = 0;  // wall clock, epoch milliseconds, of the last change
};

class Registry {
public:
    struct Options {
        std::string admin_username = "gaffer-admin";  // gafferd's dynsec user: gets kCoreRole
        std::size_t max_devices = 10000;
        std::function<std::int64_t()> wall_ms = base::wall_epoch_millis;
    };
    struct Enrollment {
        std::string password;     // shown once; never stored
        Credentials credentials;  // active, or pending when the broker failed (then `detail`)
        std::string detail;
    };
    struct ReconcileReport {
        std::size_t created = 0;   // clients (re)created from pending records
        std::size_t roles = 0;     // device roles written
        std::size_t missing = 0;   // records now marked missing
        std::size_t orphans = 0;   // gaffer-device-* clients/roles with no record, deleted
        std::vector<std::string> problems;  // per-device failures, for the log
    };
    using AddDone = std::function<void(base::Result<Enrollment>)>;
    using PasswordDone = std::function<void(base::Result<std::string>)>;
    using VoidDone = std::function<void(base::Result<void>)>;
    using ReconcileDone = std::function<void(base::Result<ReconcileReport>)>;

    Registry(DeviceStore& store, BrokerAdmin& admin, Options options);
    Registry(DeviceStore& store, BrokerAdmin& admin) : Registry(store, admin, Options{}) {}
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // Stores the record (pending), creates role and client, marks it active. Store errors
    // and a full registry (Errc::busy) fail; broker failures give a pending Enrollment.
    // Errc::conflict if the thing exists, Errc::busy if an operation on it is running.
    void add(Device device, AddDone done);
    // Deletes the broker client (which disconnects it) and role, then the record. On a
    // broker failure nothing changes and the error is returned. Errc::not_found if absent.
    void remove(std::string thing, VoidDone done);
    // A new password (the old one stops working and the device is disconnected); recreates
    // the client if the broker lost it. The record becomes active.
    void rotate(std::string thing, PasswordDone done);
    // Replaces the device's route grants and, for a registered device, its role's ACLs.
    // Remembered even when the broker fails (reconcile pushes them); Errc::invalid filters
    // are refused and not remembered. Grants for unregistered things wait for add().
    void set_grants(std::string thing, Grants grants, VoidDone done);
    // After each (re)connect: core role for gafferd, every device role rewritten, pending
    // clients created, clients the broker lost marked missing, orphans deleted, presence
    // forgotten (log lines sent while disconnected are lost). Concurrent calls coalesce.
    void reconcile(ReconcileDone done);

    // Ignores things with no record.
    void on_presence(const PresenceEvent& event);
    std::optional<Presence> presence(std::string_view thing) const;  // nullopt: unknown
    std::size_t connected_count() const;  // devices whose last presence event said connected

private:
    struct Impl;  // detail/registry_impl.hpp
    std::unique_ptr<Impl> impl_;
};

}  // namespace gaffer::registry
