// The tasks table: one row per installed task, its manifest as JSON and a short state.
#include <nlohmann/json.hpp>

#include "coordinator/store/detail/connection.hpp"
#include "coordinator/store/store.hpp"

namespace gaffer::store {
namespace {

constexpr char kUpsertTask[] = R"sql(
INSERT INTO tasks (name, manifest_json, state, updated_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (name) DO UPDATE SET
    manifest_json = excluded.manifest_json,
    state = excluded.state,
    updated_at = excluded.updated_at
)sql";

constexpr char kDeleteTask[] = "DELETE FROM tasks WHERE name = ?1";

constexpr char kUpdateTaskState[] =
    "UPDATE tasks SET state = ?2, updated_at = ?3 WHERE name = ?1";

constexpr char kSelectTasks[] =
    "SELECT name, manifest_json, state, updated_at FROM tasks ORDER BY name";

base::Result<void> check_name(std::string_view name) {
    if (name.empty()) return base::fail(base::Errc::invalid, "store: task name is empty");
    if (name.size() > Database::kMaxNameBytes) {
        return base::fail(base::Errc::invalid, "store: task name is " + std::to_string(name.size()) +
                                                   " bytes, over the limit of " +
                                                   std::to_string(Database::kMaxNameBytes));
    }
    return {};
}

base::Result<void> check_state(std::string_view name, std::string_view state) {
    if (state.empty() || state.size() > Database::kMaxStateBytes) {
        return base::fail(base::Errc::invalid,
                          "store: task " + std::string(name) + ": state must be 1 to " +
                              std::to_string(Database::kMaxStateBytes) + " bytes, got " +
                              std::to_string(state.size()));
    }
    return {};
}

base::Result<void> not_found(std::string_view name, const std::string& path) {
    return base::fail(base::Errc::not_found, "store: no task " + std::string(name) + " in " + path);
}

}  // namespace

base::Result<void> Database::put_task(std::string_view name, std::string_view manifest_json,
                                      std::string_view state) {
    if (auto ok = check_name(name); !ok) return ok;
    if (auto ok = check_state(name, state); !ok) return ok;
    // The store does not interpret manifests, but a row that cannot be parsed back would
    // break every later start: refuse it here, where the caller can still react.
    if (!nlohmann::json::accept(manifest_json)) {
        return base::fail(base::Errc::invalid,
                          "store: task " + std::string(name) + ": manifest is not valid JSON");
    }
    auto write = detail::Write::begin(*connection_, "put task");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_->query(kUpsertTask, "put task");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, name).text(2, manifest_json).text(3, state).integer(4, base::wall_epoch_millis());
        if (auto done = q->run(); !done) return done;
    }
    return write->commit();
}

base::Result<void> Database::remove_task(std::string_view name) {
    auto write = detail::Write::begin(*connection_, "remove task");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_->query(kDeleteTask, "remove task");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, name);
        if (auto done = q->run(); !done) return done;
    }
    if (connection_->changes() == 0) return not_found(name, connection_->path());
    return write->commit();
}

base::Result<void> Database::set_task_state(std::string_view name, std::string_view state) {
    if (auto ok = check_state(name, state); !ok) return ok;
    auto write = detail::Write::begin(*connection_, "set task state");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_->query(kUpdateTaskState, "set task state");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, name).text(2, state).integer(3, base::wall_epoch_millis());
        if (auto done = q->run(); !done) return done;
    }
    if (connection_->changes() == 0) return not_found(name, connection_->path());
    return write->commit();
}

base::Result<std::vector<StoredTask>> Database::list_tasks() {
    auto q = connection_->query(kSelectTasks, "list tasks");
    if (!q) return tl::unexpected(std::move(q.error()));
    std::vector<StoredTask> tasks;
    for (;;) {
        auto row = q->step();
        if (!row) return tl::unexpected(std::move(row.error()));
        if (!*row) break;
        tasks.push_back(StoredTask{q->column_text(0), q->column_text(1), q->column_text(2),
                                   q->column_integer(3)});
    }
    return tasks;
}

}  // namespace gaffer::store
