// The devices' storage ports over the SQLite store: the registry's device records, the
// shadow service's documents, and the hub's batches, routes and outbox. Loop thread only.
#pragma once

#include <optional>

#include "coordinator/store/store.hpp"
#include "devices/hub/hub.hpp"

namespace gaffer::daemon {

class DeviceStorage final : public registry::DeviceStore, public shadow::Store, public hub::Storage {
public:
    explicit DeviceStorage(store::Database& database) : db_(database) {}

    // registry::DeviceStore
    base::Result<void> insert(const registry::DeviceRecord& record) override;
    base::Result<void> set_credentials(std::string_view thing, registry::Credentials c) override;
    base::Result<void> remove(std::string_view thing) override;
    base::Result<std::optional<registry::DeviceRecord>> find(std::string_view thing) override;
    base::Result<std::vector<registry::DeviceRecord>> list() override;
    base::Result<std::size_t> count() override;

    // shadow::Store
    base::Result<std::optional<shadow::Stored>> load(const shadow::Key& key) override;
    base::Result<void> save(const shadow::Key& key, const shadow::Stored& stored) override;
    bool thing_exists(std::string_view thing) override;

    // hub::Storage
    base::Result<void> begin_batch() override;
    base::Result<void> commit_batch() override;
    void abandon_batch() override { batch_.reset(); }
    base::Result<std::vector<routing::Route>> load_routes() override;
    base::Result<routing::Route> add_route(const routing::Route& route) override;
    base::Result<void> remove_route(std::int64_t id) override;
    base::Result<std::int64_t> enqueue(const mqtt::Message& message) override;
    base::Result<std::vector<hub::Queued>> peek_outbox(std::size_t limit) override;
    base::Result<void> remove_outbox(std::int64_t seq) override;
    base::Result<std::uint64_t> outbox_size() override;

    store::Database& database() { return db_; }

private:
    store::Database& db_;
    std::optional<store::Batch> batch_;
};

}  // namespace gaffer::daemon
