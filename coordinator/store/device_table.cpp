// The devices table: one row per registered thing, its attributes, groups, presence and
// credential state.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "coordinator/store/detail/connection.hpp"
#include "coordinator/store/store.hpp"

namespace gaffer::store {
namespace {

constexpr char kInsertDevice[] = R"sql(
INSERT INTO devices (thing, attributes_json, groups_json, created_at, connected,
                     presence_changed_at, credentials)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (thing) DO NOTHING
)sql";

constexpr char kUpdateDevice[] = R"sql(
UPDATE devices SET attributes_json = ?2, groups_json = ?3, connected = ?4,
                   presence_changed_at = ?5, credentials = ?6
WHERE thing = ?1
)sql";

constexpr char kSelectDevice[] = R"sql(
SELECT thing, attributes_json, groups_json, created_at, connected, presence_changed_at, credentials
FROM devices WHERE thing = ?1
)sql";

// thing > ?1 on the primary key: a page costs its own size, however deep it starts.
constexpr char kListDevices[] = R"sql(
SELECT thing, attributes_json, groups_json, created_at, connected, presence_changed_at, credentials
FROM devices WHERE thing > ?1 ORDER BY thing LIMIT ?2
)sql";

constexpr char kDeleteDevice[] = "DELETE FROM devices WHERE thing = ?1";
constexpr char kCountDevices[] = "SELECT count(*) FROM devices";
constexpr char kHasDevice[] = "SELECT 1 FROM devices WHERE thing = ?1";
constexpr char kSetPresence[] =
    "UPDATE devices SET connected = ?2, presence_changed_at = ?3 WHERE thing = ?1";

// Checks every field; returns the groups as their column holds them, a sorted JSON array.
base::Result<std::string> check_device(const StoredDevice& device) {
    if (auto ok = detail::check_name("thing name", device.thing, Database::kMaxThingBytes); !ok)
        return tl::unexpected(std::move(ok.error()));
    const std::string where = "store: device " + device.thing + ": ";
    if (device.attributes_json.size() > Database::kMaxAttributesBytes) {
        return base::fail(base::Errc::invalid, where + "attributes are " +
                                                   std::to_string(device.attributes_json.size()) +
                                                   " bytes, over the limit of " +
                                                   std::to_string(Database::kMaxAttributesBytes));
    }
    auto attributes = nlohmann::json::parse(device.attributes_json, nullptr, false);
    if (!attributes.is_object())
        return base::fail(base::Errc::invalid, where + "attributes are not a JSON object");
    if (device.groups.size() > Database::kMaxGroups) {
        return base::fail(base::Errc::invalid, where + "in " + std::to_string(device.groups.size()) +
                                                   " groups, over the limit of " +
                                                   std::to_string(Database::kMaxGroups));
    }
    for (const std::string& group : device.groups) {
        if (auto ok = detail::check_name("group name", group, Database::kMaxThingBytes); !ok) {
            ok.error().message.insert(0, where);
            return tl::unexpected(std::move(ok.error()));
        }
    }
    if (device.credentials.empty() || device.credentials.size() > Database::kMaxStateBytes) {
        return base::fail(base::Errc::invalid, where + "credentials state must be 1 to " +
                                                   std::to_string(Database::kMaxStateBytes) +
                                                   " bytes, got " +
                                                   std::to_string(device.credentials.size()));
    }
    if (device.created_at < 0 || device.presence_changed_at < 0)
        return base::fail(base::Errc::invalid, where + "a timestamp is negative");

    std::vector<std::string> groups = device.groups;
    std::sort(groups.begin(), groups.end());
    groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
    return nlohmann::json(groups).dump();
}

base::Result<StoredDevice> read_device(const detail::Query& q, const std::string& path) {
    StoredDevice device;
    device.thing = q.column_text(0);
    device.attributes_json = q.column_text(1);
    auto groups = nlohmann::json::parse(q.column_text(2), nullptr, false);
    bool valid = groups.is_array();
    for (const auto& group : groups) {
        if (!group.is_string()) valid = false;
    }
    if (!valid) {
        return base::fail(base::Errc::io, "store: device " + device.thing + " in " + path +
                                              ": its groups are not a JSON array of names");
    }
    device.groups = groups.get<std::vector<std::string>>();
    device.created_at = q.column_integer(3);
    device.connected = q.column_integer(4) != 0;
    device.presence_changed_at = q.column_integer(5);
    device.credentials = q.column_text(6);
    return device;
}

}  // namespace

base::Error detail::no_device(std::string_view thing, const std::string& path) {
    return base::Error{base::Errc::not_found, "store: no device " + std::string(thing) + " in " + path};
}

base::Result<void> Database::add_device(const StoredDevice& device) {
    auto groups_json = check_device(device);
    if (!groups_json) return tl::unexpected(std::move(groups_json.error()));
    auto write = detail::Write::begin(*connection_, "add device");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_->query(kInsertDevice, "add device");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, device.thing)
            .text(2, device.attributes_json)
            .text(3, *groups_json)
            .integer(4, device.created_at)
            .integer(5, device.connected ? 1 : 0)
            .integer(6, device.presence_changed_at)
            .text(7, device.credentials);
        if (auto done = q->run(); !done) return done;
    }
    if (connection_->changes() == 0) {
        return base::fail(base::Errc::conflict, "store: device " + device.thing + " exists already in " +
                                                    connection_->path());
    }
    return write->commit();
}

base::Result<void> Database::update_device(const StoredDevice& device) {
    auto groups_json = check_device(device);
    if (!groups_json) return tl::unexpected(std::move(groups_json.error()));
    auto write = detail::Write::begin(*connection_, "update device");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_->query(kUpdateDevice, "update device");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, device.thing)
            .text(2, device.attributes_json)
            .text(3, *groups_json)
            .integer(4, device.connected ? 1 : 0)
            .integer(5, device.presence_changed_at)
            .text(6, device.credentials);
        if (auto done = q->run(); !done) return done;
    }
    if (connection_->changes() == 0) return tl::unexpected(detail::no_device(device.thing, connection_->path()));
    return write->commit();
}

base::Result<StoredDevice> Database::find_device(std::string_view thing) {
    auto q = connection_->query(kSelectDevice, "find device");
    if (!q) return tl::unexpected(std::move(q.error()));
    q->text(1, thing);
    auto row = q->step();
    if (!row) return tl::unexpected(std::move(row.error()));
    if (!*row) return tl::unexpected(detail::no_device(thing, connection_->path()));
    return read_device(*q, connection_->path());
}

base::Result<bool> Database::has_device(std::string_view thing) {
    auto q = connection_->query(kHasDevice, "look up device");
    if (!q) return tl::unexpected(std::move(q.error()));
    q->text(1, thing);
    auto row = q->step();
    if (!row) return tl::unexpected(std::move(row.error()));
    return *row;
}

base::Result<void> Database::remove_device(std::string_view thing) {
    auto write = detail::Write::begin(*connection_, "remove device");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_->query(kDeleteDevice, "remove device");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, thing);
        if (auto done = q->run(); !done) return done;
    }
    // changes() counts the device row only: cascaded deletes are not included.
    if (connection_->changes() == 0) return tl::unexpected(detail::no_device(thing, connection_->path()));
    return write->commit();
}

base::Result<std::vector<StoredDevice>> Database::list_devices(std::string_view after,
                                                               std::size_t limit) {
    std::vector<StoredDevice> devices;
    if (limit == 0) return devices;
    auto q = connection_->query(kListDevices, "list devices");
    if (!q) return tl::unexpected(std::move(q.error()));
    constexpr auto kMax = static_cast<std::size_t>(INT64_MAX);
    q->text(1, after).integer(2, static_cast<std::int64_t>(std::min(limit, kMax)));
    for (;;) {
        auto row = q->step();
        if (!row) return tl::unexpected(std::move(row.error()));
        if (!*row) break;
        auto device = read_device(*q, connection_->path());
        if (!device) return tl::unexpected(std::move(device.error()));
        devices.push_back(std::move(*device));
    }
    return devices;
}

base::Result<std::uint64_t> Database::count_devices() {
    auto n = connection_->read_integer(kCountDevices, "count devices");
    if (!n) return tl::unexpected(std::move(n.error()));
    return static_cast<std::uint64_t>(*n);
}

base::Result<void> Database::set_device_presence(std::string_view thing, bool connected,
                                                 std::int64_t at_ms) {
    auto write = detail::Write::begin(*connection_, "set device presence");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_->query(kSetPresence, "set device presence");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, thing).integer(2, connected ? 1 : 0).integer(3, at_ms);
        if (auto done = q->run(); !done) return done;
    }
    if (connection_->changes() == 0) return tl::unexpected(detail::no_device(thing, connection_->path()));
    return write->commit();
}

}  // namespace gaffer::store
