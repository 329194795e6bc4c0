// The local API's DeviceBackend over the hub and the store: what a device, shadow or
// route request does. Loop thread only.
#pragma once

#include <memory>

#include "coordinator/api/api.hpp"
#include "coordinator/config/config.hpp"
#include "coordinator/store/store.hpp"
#include "devices/hub/hub.hpp"

namespace gaffer::daemon {

class DeviceBackend final : public api::DeviceBackend {
public:
    // The references must outlive the backend.
    DeviceBackend(const config::Config& config, hub::Hub& hub, store::Database& database);
    ~DeviceBackend() override;

    void add_device(std::string_view device_json,
                    std::function<void(base::Result<std::pair<api::DeviceView, api::Credentials>>)> done) override;
    base::Result<std::vector<api::DeviceView>> list_devices(std::string_view after, std::size_t limit) override;
    base::Result<api::DeviceView> show_device(std::string_view thing) override;
    void remove_device(std::string_view thing, std::function<void(base::Result<void>)> done) override;
    void rotate_credentials(std::string_view thing,
                            std::function<void(base::Result<api::Credentials>)> done) override;
    api::ShadowAnswer get_shadow(std::string_view thing, std::string_view name) override;
    api::ShadowAnswer update_shadow(std::string_view thing, std::string_view name,
                                    std::string_view request_json) override;
    api::ShadowAnswer delete_shadow(std::string_view thing, std::string_view name) override;
    void add_route(std::string_view source, std::string_view filter, std::string_view target,
                   std::function<void(base::Result<api::RouteView>)> done) override;
    base::Result<std::vector<api::RouteView>> list_routes() override;
    void remove_route(std::int64_t id, std::function<void(base::Result<void>)> done) override;
    api::DeviceMetrics device_metrics() override;

private:
    api::DeviceView view_of(const store::StoredDevice& row);
    api::Credentials credentials_for(const std::string& thing, std::string password) const;

    const config::Config& config_;
    hub::Hub& hub_;
    store::Database& database_;
    // Set false on destruction: callbacks from the hub that arrive later do nothing.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gaffer::daemon
