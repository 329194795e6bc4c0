// gafferd's device side, composed: the Paho link to the local broker, the SQLite adapters,
// the hub and the local API's DeviceBackend. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "coordinator/api/api.hpp"
#include "coordinator/config/config.hpp"
#include "coordinator/loop/loop.hpp"
#include "coordinator/scheduler/scheduler.hpp"
#include "coordinator/store/store.hpp"
#include "devices/hub/hub.hpp"
#include "tasks/environment/environment.hpp"

namespace gaffer::daemon {

class Devices {
public:
    // nullptr (and a log line saying why) when [broker] is disabled or its password file
    // is missing: gafferd then runs tasks only. Errors: the broker settings or the stored
    // routes cannot be used (invalid, io).
    static base::Result<std::unique_ptr<Devices>> start(loop::Loop& loop, const config::Config& config,
                                                        store::Database& database,
                                                        scheduler::Scheduler& scheduler,
                                                        const base::Clock& clock);
    ~Devices();
    Devices(const Devices&) = delete;
    Devices& operator=(const Devices&) = delete;

    api::DeviceBackend& backend();
    hub::Hub& hub();
    // Disconnects from the broker cleanly, then `done`.
    void stop(std::function<void()> done);

    // A task's call of the device services (runtime API extension): a shadow operation or
    // a publication from task:<call.task>, answered at once.
    void serve(const environment::ServiceCall& call, environment::ServiceReply reply);

    struct Parts;

private:
    explicit Devices(std::unique_ptr<Parts> parts);
    std::unique_ptr<Parts> parts_;
};

}  // namespace gaffer::daemon
