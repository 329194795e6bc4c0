// The routes table: the routing table's rows (source, topic filter, target) as the
// operator added them. Their meaning belongs to devices/routing; the store keeps them.
#include <utility>

#include "coordinator/store/detail/connection.hpp"
#include "coordinator/store/store.hpp"

namespace gaffer::store {
namespace {

// DO NOTHING + RETURNING: a duplicate triple returns no row, an expected answer
// (conflict) rather than a UNIQUE failure to decode.
constexpr char kInsertRoute[] = R"sql(
INSERT INTO routes (source, filter, target, created_at) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (source, filter, target) DO NOTHING
RETURNING id
)sql";

constexpr char kDeleteRoute[] = "DELETE FROM routes WHERE id = ?1";
constexpr char kSelectRoutes[] = "SELECT id, source, filter, target, created_at FROM routes ORDER BY id";

base::Result<void> check_field(std::string_view what, std::string_view value) {
    if (value.empty() || value.size() > Database::kMaxRouteFieldBytes) {
        return base::fail(base::Errc::invalid, "store: a route's " + std::string(what) + " must be 1 to " +
                                                   std::to_string(Database::kMaxRouteFieldBytes) +
                                                   " bytes, got " + std::to_string(value.size()));
    }
    return {};
}

}  // namespace

base::Result<StoredRoute> Database::add_route(std::string_view source, std::string_view filter,
                                              std::string_view target) {
    for (const auto& [what, value] : {std::pair{"source", source}, std::pair{"filter", filter},
                                      std::pair{"target", target}}) {
        if (auto ok = check_field(what, value); !ok) return tl::unexpected(std::move(ok.error()));
    }
    StoredRoute route{0, std::string(source), std::string(filter), std::string(target),
                      base::wall_epoch_millis()};
    auto write = detail::Write::begin(*connection_, "add route");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_->query(kInsertRoute, "add route");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->text(1, source).text(2, filter).text(3, target).integer(4, route.created_at);
        auto row = q->step();
        if (!row) return tl::unexpected(std::move(row.error()));
        if (!*row) {
            return base::fail(base::Errc::conflict, "store: the route " + route.source + " -> " +
                                                        route.target + " on " + base::quoted(route.filter) +
                                                        " exists already in " + connection_->path());
        }
        route.id = q->column_integer(0);
        if (auto done = q->run(); !done) return tl::unexpected(std::move(done.error()));
    }
    if (auto done = write->commit(); !done) return tl::unexpected(std::move(done.error()));
    return route;
}

base::Result<void> Database::remove_route(std::int64_t id) {
    auto write = detail::Write::begin(*connection_, "remove route");
    if (!write) return tl::unexpected(std::move(write.error()));
    {
        auto q = connection_->query(kDeleteRoute, "remove route");
        if (!q) return tl::unexpected(std::move(q.error()));
        q->integer(1, id);
        if (auto done = q->run(); !done) return done;
    }
    if (connection_->changes() == 0) {
        return base::fail(base::Errc::not_found,
                          "store: no route " + std::to_string(id) + " in " + connection_->path());
    }
    return write->commit();
}

base::Result<std::vector<StoredRoute>> Database::list_routes() {
    auto q = connection_->query(kSelectRoutes, "list routes");
    if (!q) return tl::unexpected(std::move(q.error()));
    std::vector<StoredRoute> routes;
    for (;;) {
        auto row = q->step();
        if (!row) return tl::unexpected(std::move(row.error()));
        if (!*row) break;
        routes.push_back(StoredRoute{q->column_integer(0), q->column_text(1), q->column_text(2),
                                     q->column_text(3), q->column_integer(4)});
    }
    return routes;
}

}  // namespace gaffer::store
