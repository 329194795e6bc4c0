// A Backend over plain maps, recording what the router asked of it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "coordinator/api/api.hpp"

namespace gaffer::api::test {

class FakeBackend : public Backend {
public:
    std::map<std::string, TaskView> tasks;
    std::map<std::string, InvocationView> invocations;
    std::map<std::string, std::string> logs;
    std::vector<EnvironmentView> environments;
    StatusView status_view{"0.1.0-test", 12.5, 0, 0, 0, 0, false};
    MetricsSnapshot metrics_snapshot;

    // Invocations: answer at once with `next_outcome`, or hold `done` for the test.
    bool answer_sync_at_once = true;
    InvocationOutcome next_outcome{InvocationStatus::ok, "{\"answer\":42}", ""};
    std::vector<std::pair<std::string, InvokeDone>> held;
    std::optional<base::Error> invoke_error;
    std::vector<std::string> invoked_payloads;
    std::vector<std::size_t> log_tail_requests;
    int next_id = 1;

    base::Result<PutTaskResult> put_task(std::string_view manifest_json) override {
        auto j = nlohmann::json::parse(manifest_json);
        if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) {
            return base::fail(base::Errc::invalid, "name: missing");
        }
        TaskView t;
        t.name = j["name"].get<std::string>();
        t.version = j.value("version", "1");
        t.owner = "alice";
        t.mode = "on_demand";
        t.state = "ready";
        t.manifest_json = std::string(manifest_json);
        const bool created = tasks.count(t.name) == 0;
        tasks[t.name] = t;
        return PutTaskResult{t, created};
    }
    base::Result<std::vector<TaskView>> list_tasks() override {
        std::vector<TaskView> out;
        for (auto& [name, t] : tasks) out.push_back(t);
        return out;
    }
    base::Result<TaskView> show_task(std::string_view name) override {
        auto it = tasks.find(std::string(name));
        if (it == tasks.end()) return base::fail(base::Errc::not_found, "no task " + std::string(name));
        return it->second;
    }
    base::Result<void> remove_task(std::string_view name) override {
        if (tasks.erase(std::string(name)) == 0) {
            return base::fail(base::Errc::not_found, "no task " + std::string(name));
        }
        return {};
    }
    base::Result<std::string> invoke(std::string_view task, std::string payload, bool async,
                                     InvokeDone done) override {
        if (invoke_error) return tl::unexpected<base::Error>(*invoke_error);
        if (tasks.count(std::string(task)) == 0) {
            return base::fail(base::Errc::not_found, "no task " + std::string(task));
        }
        invoked_payloads.push_back(payload);
        std::string id = "inv-" + std::to_string(next_id++);
        if (async) return id;
        if (answer_sync_at_once) {
            done(next_outcome);
        } else {
            held.emplace_back(id, std::move(done));
        }
        return id;
    }
    base::Result<InvocationView> show_invocation(std::string_view id) override {
        auto it = invocations.find(std::string(id));
        if (it == invocations.end()) return base::fail(base::Errc::not_found, "no invocation " + std::string(id));
        return it->second;
    }
    base::Result<std::string> read_logs(std::string_view task, std::size_t tail_bytes) override {
        log_tail_requests.push_back(tail_bytes);
        if (tasks.count(std::string(task)) == 0) return base::fail(base::Errc::not_found, "no task");
        auto it = logs.find(std::string(task));
        if (it == logs.end()) return base::fail(base::Errc::unavailable, "no log yet");
        const std::string& all = it->second;
        return all.size() > tail_bytes ? all.substr(all.size() - tail_bytes) : all;
    }
    base::Result<std::vector<EnvironmentView>> list_environments() override { return environments; }
    StatusView status() override { return status_view; }
    MetricsSnapshot metrics() override { return metrics_snapshot; }
};

}  // namespace gaffer::api::test
