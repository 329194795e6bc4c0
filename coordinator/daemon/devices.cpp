#include "coordinator/daemon/devices.hpp"

#include <unistd.h>

#include "coordinator/daemon/device_backend.hpp"
#include "coordinator/daemon/device_store.hpp"
#include "devices/ingest/ingest.hpp"

namespace gaffer::daemon {
// Named, not anonymous: Devices::Parts holds them, and a type with external linkage must
// not hold members of types that have none.
namespace adapters {

// The registry's one-shot timer over a libuv timer.
class LoopAlarm final : public registry::Alarm {
public:
    explicit LoopAlarm(loop::Loop& loop) : timer_(loop) {}
    void arm(base::Duration after, std::function<void()> fire) override { timer_.start(after, std::move(fire)); }
    void disarm() override { timer_.stop(); }

private:
    loop::Timer timer_;
};

// Routed messages become asynchronous invocations.
class SchedulerTasks final : public hub::Tasks {
public:
    explicit SchedulerTasks(scheduler::Scheduler& scheduler) : scheduler_(scheduler) {}
    base::Result<std::string> invoke_async(std::string_view task, std::string event) override {
        return scheduler_.invoke(task, std::move(event), true, {});
    }

private:
    scheduler::Scheduler& scheduler_;
};

}  // namespace adapters

namespace {

base::Result<std::string> read_password(const std::string& path) {
    auto text = base::read_file(path);
    if (!text) return text;
    auto line = text->substr(0, text->find('\n'));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) return base::fail(base::Errc::invalid, path + ": the first line (the password) is empty");
    return line;
}

}  // namespace

struct Devices::Parts {
    Parts(loop::Loop& loop, const config::Config& config, store::Database& database, scheduler::Scheduler& scheduler,
          const base::Clock& clock, std::unique_ptr<mqtt::Link> link_)
        : link(std::move(link_)),
          storage(database),
          alarm(loop),
          tasks(scheduler),
          hub(hub::Ports{*link, tasks, storage, storage, storage, alarm, clock, wall_clock,
                         [&loop](std::function<void()> fn) { loop.post(std::move(fn)); },
                         [](base::LogLevel level, std::string_view m) { base::log(level, "devices: " + std::string(m)); }},
              hub_options(config)),
          backend(config, hub, database) {
        if (config.broker.ingest_socket.empty()) return;
        ingest.emplace(loop, ingest::Client::Options{config.broker.ingest_socket},
                       [this](ingest::Message m, ingest::Client::Answer answer) {
                           hub.ingest(mqtt::Message{std::move(m.topic), std::move(m.payload), m.qos, m.retain},
                                      std::move(answer));
                       },
                       [](base::LogLevel level, std::string_view m) { base::log(level, "devices: " + std::string(m)); });
    }

    base::Result<void> start() {
        if (ingest)
            hub.on_routes_changed([this](const routing::RouteTable& table) { ingest->set_routes(ingest::durable_routes(table)); });
        if (auto started = hub.start(); !started) return started;
        if (ingest) ingest->start();
        return {};
    }

    static hub::Options hub_options(const config::Config& config) {
        hub::Options o;
        o.admin_username = config.broker.username;
        o.max_devices = config.devices.max_devices;
        o.max_routes = config.devices.max_routes;
        o.max_message_bytes = config.devices.max_message_bytes;
        return o;
    }

    std::unique_ptr<mqtt::Link> link;
    DeviceStorage storage;
    adapters::LoopAlarm alarm;
    adapters::SchedulerTasks tasks;
    shadow::SystemWallClock wall_clock;
    hub::Hub hub;
    DeviceBackend backend;
    std::optional<ingest::Client> ingest;
};

base::Result<std::unique_ptr<Devices>> Devices::start(loop::Loop& loop, const config::Config& config,
                                                      store::Database& database, scheduler::Scheduler& scheduler,
                                                      const base::Clock& clock) {
    if (!config.broker.enabled) {
        base::log_info("devices: disabled (broker.enabled = false)");
        return std::unique_ptr<Devices>{};
    }
    if (::access(config.broker.password_file.c_str(), F_OK) != 0) {
        base::log_warning("devices: disabled: no broker password file at " + config.broker.password_file +
                          " (run gaffer-broker-init, or set broker.enabled = false to silence this)");
        return std::unique_ptr<Devices>{};
    }
    auto password = read_password(config.broker.password_file);
    if (!password) return tl::unexpected(password.error());
    database.set_max_outbox(config.devices.outbox_limit);

    mqtt::LinkOptions options;
    options.uri = config.broker.uri;
    options.client_id = config.broker.client_id;
    options.username = config.broker.username;
    options.password = std::move(*password);
    options.keep_alive = std::chrono::duration_cast<std::chrono::seconds>(config.broker.keep_alive);
    options.reconnect_min = config.broker.reconnect_min;
    options.reconnect_max = config.broker.reconnect_max;
    auto link = mqtt::load_paho_link(loop, std::move(options));
    if (!link) return tl::unexpected(link.error());

    auto parts = std::make_unique<Parts>(loop, config, database, scheduler, clock, std::move(*link));
    if (auto started = parts->start(); !started) return tl::unexpected(started.error());
    base::log_info("devices: connecting to the broker at " + config.broker.uri + " as " + config.broker.username);
    return std::unique_ptr<Devices>(new Devices(std::move(parts)));
}

Devices::Devices(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
Devices::~Devices() = default;

api::DeviceBackend& Devices::backend() { return parts_->backend; }
hub::Hub& Devices::hub() { return parts_->hub; }
void Devices::stop(std::function<void()> done) { parts_->hub.stop(std::move(done)); }

void Devices::serve(const environment::ServiceCall& call, environment::ServiceReply reply) {
    auto& hub = parts_->hub;
    const auto& request = call.request;
    const shadow::Key key{request.thing, request.shadow};
    hub::Answer answer;
    switch (request.op) {
    case runtime::ServiceOp::shadow_get: answer = hub.get_shadow(key); break;
    case runtime::ServiceOp::shadow_update: answer = hub.update_shadow(key, call.body); break;
    case runtime::ServiceOp::shadow_delete: answer = hub.delete_shadow(key); break;
    case runtime::ServiceOp::publish:
        answer = hub.publish_from_task(call.task, request.topic, call.body, request.qos);
        break;
    }
    reply(answer.status, std::move(answer.body));
}

}  // namespace gaffer::daemon
