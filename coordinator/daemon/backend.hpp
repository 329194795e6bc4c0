// The local API's Backend over the scheduler and the store: what a request does to the
// running scheduler and to the state on disk. Loop thread only.
#pragma once

#include <string>

#include "coordinator/api/api.hpp"
#include "coordinator/config/config.hpp"
#include "coordinator/scheduler/scheduler.hpp"
#include "coordinator/store/store.hpp"

namespace gaffer::daemon {

class DaemonBackend final : public api::Backend {
public:
    // The references must outlive the backend.
    DaemonBackend(const config::Config& config, scheduler::Scheduler& scheduler,
                  store::Database& database, store::SqliteJournal& journal, const base::Clock& clock);

    // Installs every stored task in the scheduler (after a restart). A stored manifest
    // this build no longer accepts is logged and left out, not deleted.
    void restore_tasks();
    void set_shutting_down() { shutting_down_ = true; }

    base::Result<api::PutTaskResult> put_task(std::string_view manifest_json) override;
    base::Result<std::vector<api::TaskView>> list_tasks() override;
    base::Result<api::TaskView> show_task(std::string_view name) override;
    base::Result<void> remove_task(std::string_view name) override;
    base::Result<std::string> invoke(std::string_view task, std::string payload, bool async,
                                     InvokeDone done) override;
    base::Result<api::InvocationView> show_invocation(std::string_view id) override;
    base::Result<std::string> read_logs(std::string_view task, std::size_t tail_bytes) override;
    base::Result<std::vector<api::EnvironmentView>> list_environments() override;
    api::StatusView status() override;
    api::MetricsSnapshot metrics() override;

private:
    api::TaskView view_of(const scheduler::TaskStatus& status) const;

    const config::Config& config_;
    scheduler::Scheduler& scheduler_;
    store::Database& database_;
    store::SqliteJournal& journal_;
    const base::Clock& clock_;
    base::TimePoint started_;
    bool shutting_down_ = false;
};

}  // namespace gaffer::daemon
