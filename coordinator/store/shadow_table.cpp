// The shadows table: each device's classic ("") and named shadow documents, with their
// versions. Rows go with their device (ON DELETE CASCADE, see schema step 2).
#include "coordinator/store/detail/connection.hpp"
#include "coordinator/store/store.hpp"

namespace gaffer::store {
namespace {

// INSERT ... SELECT ... WHERE EXISTS inserts nothing for an unknown device, which
// changes() reports as 0: a plain answer (not_found) rather than a foreign-key error to
// decode. The upsert counts as one change either way.
constexpr char kUpsertShadow[] = R"sql(
INSERT INTO shadows (thing, name, document, version, deleted, updated_at)
SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM devices WHERE thing = ?1)
ON CONFLICT (thing, name) DO UPDATE SET
    document = excluded.document,
    version = excluded.version,
    deleted = excluded.deleted,
    updated_at = excluded.updated_at
)sql";

constexpr char kSelectShadow[] = R"sql(
SELECT document, version, deleted, updated_at FROM shadows WHERE thing = ?1 AND name = ?2
)sql";

constexpr char kSelectShadowNames[] =
    "SELECT name FROM shadows WHERE thing = ?1 AND deleted = 0 ORDER BY name";

constexpr char kDeviceExists[] = "SELECT 1 FROM devices WHERE thing = ?1";

base::Result<void> check_shadow(const StoredShadow& shadow) {
    if (auto ok = detail::check_name("thing name", shadow.thing, Database::kMaxThingBytes); !ok)
        return ok;
    if (!shadow.name.empty()) {
        if (auto ok = detail::check_name("shadow name", shadow.name, Database::kMaxShadowNameBytes); !ok)
            return ok;
    }
    const std::string where = "store: shadow " + base::quoted(shadow.name) + " of " + shadow.thing + ": ";
    if (shadow.document.size() > Database::kMaxShadowDocumentBytes) {
        return base::fail(base::Errc::invalid, where + "the document is " +
                                                   std::to_string(shadow.document.size()) +
                                                   " bytes, over the limit of " +
                                                   std::to_string(Database::kMaxShadowDocumentBytes));
    }
    if (shadow.version < 0) return base::fail(base::Errc::invalid, where + "the version is negative");
    if (shadow.updated_at < 0) return base::fail(base::Errc::invalid, where + "updated_at is negative");
    return {};
}

base::Result<bool> device_exists(detail::Connection& connection, std::string_view thing,
                                 std::string_view operation) {
    auto q = connection.query(kDeviceExists, operation);
    if (!q) return tl::unexpected(std::move(q.error()));
    q->text(1, thing);
    return q->step();
}

}  // namespace

base::Result<std::optional<StoredShadow>> Database::find_shadow(std::string_view thing,
                                                                std::string_view name) {
    auto q = connection_->query(kSelectShadow, "find shadow");
    if (!q) return tl::unexpected(std::move(q.error()));
    q->text(1, thing).text(2, name);
    auto row = q->step();
    if (!row) return tl::unexpected(std::move(row.error()));
    if (!*row) return std::optional<StoredShadow>();
    return StoredShadow{std::string(thing), std::string(name), q->column_text(0), q->column_integer(1),
                        q->column_integer(2) != 0,   q->column_integer(3)};
}

base::Result<void> Database::put_shadow(const StoredShadow& shadow) {
    if (auto ok = check_shadow(shadow); !ok) return ok;
    auto write = detail::Write::begin(*connection_, "put shadow");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_->query(kUpsertShadow, "put shadow");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, shadow.thing)
            .text(2, shadow.name)
            .text(3, shadow.document)
            .integer(4, shadow.version)
            .integer(5, shadow.deleted ? 1 : 0)
            .integer(6, shadow.updated_at);
        if (auto done = q->run(); !done) return done;
    }
    if (connection_->changes() == 0) return tl::unexpected(detail::no_device(shadow.thing, connection_->path()));
    return write->commit();
}

base::Result<std::vector<std::string>> Database::list_shadow_names(std::string_view thing) {
    std::vector<std::string> names;
    {
        auto q = connection_->query(kSelectShadowNames, "list shadows");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, thing);
        for (;;) {
            auto row = q->step();
            if (!row) return tl::unexpected(std::move(row.error()));
            if (!*row) break;
            names.push_back(q->column_text(0));
        }
    }
    if (names.empty()) {  // no shadows, or no such device: only the second is an error
        auto exists = device_exists(*connection_, thing, "list shadows");
        if (!exists) return tl::unexpected(std::move(exists.error()));
        if (!*exists) return tl::unexpected(detail::no_device(thing, connection_->path()));
    }
    return names;
}

}  // namespace gaffer::store
