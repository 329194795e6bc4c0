#include "coordinator/daemon/device_store.hpp"

#include <nlohmann/json.hpp>

namespace gaffer::daemon {
namespace {

registry::DeviceRecord record_of(const store::StoredDevice& row) {
    registry::DeviceRecord record;
    record.device.thing = row.thing;
    record.device.attributes = nlohmann::json::parse(row.attributes_json, nullptr, false);
    if (!record.device.attributes.is_object()) record.device.attributes = nlohmann::json::object();
    record.device.groups = row.groups;
    record.credentials = registry::parse_credentials(row.credentials).value_or(registry::Credentials::missing);
    return record;
}

}  // namespace

base::Result<void> DeviceStorage::insert(const registry::DeviceRecord& record) {
    store::StoredDevice row;
    row.thing = record.device.thing;
    row.attributes_json = record.device.attributes.dump();
    row.groups = record.device.groups;
    row.created_at = base::wall_epoch_millis();
    row.credentials = std::string(registry::credentials_name(record.credentials));
    return db_.add_device(row);
}

base::Result<void> DeviceStorage::set_credentials(std::string_view thing, registry::Credentials c) {
    auto row = db_.find_device(thing);
    if (!row) return tl::unexpected(row.error());
    row->credentials = std::string(registry::credentials_name(c));
    return db_.update_device(*row);
}

base::Result<void> DeviceStorage::remove(std::string_view thing) { return db_.remove_device(thing); }

base::Result<std::optional<registry::DeviceRecord>> DeviceStorage::find(std::string_view thing) {
    auto row = db_.find_device(thing);
    if (!row) {
        if (row.error().code == base::Errc::not_found) return std::optional<registry::DeviceRecord>{};
        return tl::unexpected(row.error());
    }
    return std::optional<registry::DeviceRecord>{record_of(*row)};
}

base::Result<std::vector<registry::DeviceRecord>> DeviceStorage::list() {
    std::vector<registry::DeviceRecord> out;
    std::string after;
    for (;;) {
        auto page = db_.list_devices(after, 1000);
        if (!page) return tl::unexpected(page.error());
        for (const auto& row : *page) out.push_back(record_of(row));
        if (page->size() < 1000) return out;
        after = page->back().thing;
    }
}

base::Result<std::size_t> DeviceStorage::count() {
    auto n = db_.count_devices();
    if (!n) return tl::unexpected(n.error());
    return static_cast<std::size_t>(*n);
}

base::Result<std::optional<shadow::Stored>> DeviceStorage::load(const shadow::Key& key) {
    auto row = db_.find_shadow(key.thing, key.name);
    if (!row) return tl::unexpected(row.error());
    if (!*row) return std::optional<shadow::Stored>{};
    return std::optional<shadow::Stored>{shadow::Stored{std::move((*row)->document), (*row)->version, (*row)->deleted}};
}

base::Result<void> DeviceStorage::save(const shadow::Key& key, const shadow::Stored& stored) {
    return db_.put_shadow(store::StoredShadow{key.thing, key.name, stored.document, stored.version, stored.deleted,
                                              base::wall_epoch_millis()});
}

bool DeviceStorage::thing_exists(std::string_view thing) {
    auto found = db_.has_device(thing);
    return found && *found;
}

base::Result<void> DeviceStorage::begin_batch() {
    auto batch = db_.begin_batch();
    if (!batch) return tl::unexpected(batch.error());
    batch_.emplace(std::move(*batch));
    return {};
}

base::Result<void> DeviceStorage::commit_batch() {
    if (!batch_) return base::fail(base::Errc::invalid, "no storage batch is open");
    auto committed = batch_->commit();
    batch_.reset();
    return committed;
}

base::Result<std::vector<routing::Route>> DeviceStorage::load_routes() {
    auto rows = db_.list_routes();
    if (!rows) return tl::unexpected(rows.error());
    std::vector<routing::Route> out;
    for (const auto& row : *rows) {
        auto route = routing::make_route(row.source, row.filter, row.target);
        if (!route)
            return base::fail(route.error().code, "stored route " + std::to_string(row.id) + ": " + route.error().message);
        route->id = row.id;
        out.push_back(std::move(*route));
    }
    return out;
}

base::Result<routing::Route> DeviceStorage::add_route(const routing::Route& route) {
    auto row = db_.add_route(routing::to_string(route.source), route.filter, routing::to_string(route.target));
    if (!row) return tl::unexpected(row.error());
    routing::Route stored = route;
    stored.id = row->id;
    return stored;
}

base::Result<void> DeviceStorage::remove_route(std::int64_t id) { return db_.remove_route(id); }

base::Result<std::int64_t> DeviceStorage::enqueue(const mqtt::Message& message) {
    store::OutboxMessage row;
    row.topic = message.topic;
    row.payload = message.payload;
    row.qos = message.qos;
    row.retain = message.retain;
    return db_.enqueue_outbox(row);
}

base::Result<std::vector<hub::Queued>> DeviceStorage::peek_outbox(std::size_t limit) {
    auto rows = db_.peek_outbox(limit);
    if (!rows) return tl::unexpected(rows.error());
    std::vector<hub::Queued> out;
    out.reserve(rows->size());
    for (auto& row : *rows)
        out.push_back(hub::Queued{row.seq, mqtt::Message{std::move(row.topic), std::move(row.payload), row.qos, row.retain}});
    return out;
}

base::Result<void> DeviceStorage::remove_outbox(std::int64_t seq) {
    auto removed = db_.remove_outbox(seq);
    if (!removed && removed.error().code == base::Errc::not_found) return {};  // acknowledged twice
    return removed;
}

base::Result<std::uint64_t> DeviceStorage::outbox_size() { return db_.count_outbox(); }

}  // namespace gaffer::daemon
