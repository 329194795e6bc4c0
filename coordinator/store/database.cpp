#include <sys/stat.h>

#include <cerrno>
#include <string>

#include "coordinator/store/detail/connection.hpp"
#include "coordinator/store/store.hpp"

namespace gaffer::store {
namespace {

// Debian's SQLite defaults to busy_timeout=0 and a rollback journal, so every connection
// sets these itself.
//
// synchronous=FULL: in WAL mode NORMAL skips the fsync of the WAL at each commit, which
// survives a crashed process but can lose the last commits on power loss. An accepted
// async invocation has been promised to its caller, and gateways lose power, so each
// commit is fsynced. busy_timeout covers the CLI or a backup reading the file meanwhile.
// journal_size_limit truncates the WAL after checkpoints that let it grow past 64 MiB.
constexpr char kBusyTimeout[] = "PRAGMA busy_timeout = 5000";
constexpr char kJournalModeWal[] = "PRAGMA journal_mode = WAL";
constexpr char kSynchronousFull[] = "PRAGMA synchronous = FULL";
constexpr char kForeignKeysOn[] = "PRAGMA foreign_keys = ON";
constexpr char kJournalSizeLimit[] = "PRAGMA journal_size_limit = 67108864";

constexpr char kReadJournalMode[] = "PRAGMA journal_mode";
constexpr char kReadSynchronous[] = "PRAGMA synchronous";
constexpr char kReadBusyTimeout[] = "PRAGMA busy_timeout";
constexpr char kReadForeignKeys[] = "PRAGMA foreign_keys";
constexpr char kReadApplicationId[] = "PRAGMA application_id";
constexpr char kReadUserVersion[] = "PRAGMA user_version";

constexpr std::int64_t kGafferApplicationId = 1195460166;  // 'GAFF', set by schema step 1

base::Result<void> ensure_directory(const std::string& dir) {
    if (dir.empty()) return base::fail(base::Errc::invalid, "store: the state directory is empty");
    if (::mkdir(dir.c_str(), 0700) == 0) return {};
    int err = errno;
    if (err != EEXIST) return base::fail_errno(base::Errc::io, "store: create state directory " + dir, err);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0)
        return base::fail_errno(base::Errc::io, "store: stat state directory " + dir, errno);
    if (!S_ISDIR(st.st_mode))
        return base::fail(base::Errc::invalid, "store: state directory " + dir + " is not a directory");
    return {};
}

base::Result<void> configure(detail::Connection& connection) {
    for (const char* pragma : {kBusyTimeout, kSynchronousFull, kForeignKeysOn, kJournalSizeLimit}) {
        if (auto done = connection.exec(pragma, pragma); !done) return done;
    }
    return {};
}

// After check_owner(): the WAL switch is persistent, so it must not touch a foreign file.
base::Result<void> enable_wal(detail::Connection& connection) {
    // journal_mode answers with the mode it ended up in rather than failing: a file system
    // without shared-memory support leaves the file in its old mode.
    auto mode = connection.read_text(kJournalModeWal, "set journal_mode=WAL");
    if (!mode) return tl::unexpected(std::move(mode.error()));
    if (*mode != "wal") {
        return base::fail(base::Errc::io, "store: " + connection.path() +
                                              " refused journal_mode=WAL (stays " + *mode + ")");
    }
    return {};
}

// A file with another application's id, or with a schema but no id, is not ours: the
// migrations would fail half-way or, worse, succeed on someone else's data.
base::Result<void> check_owner(detail::Connection& connection) {
    auto id = connection.read_integer(kReadApplicationId, "read application_id");
    if (!id) return tl::unexpected(std::move(id.error()));
    auto version = connection.read_integer(kReadUserVersion, "read schema version");
    if (!version) return tl::unexpected(std::move(version.error()));
    if (*id == kGafferApplicationId || (*id == 0 && *version == 0)) return {};
    return base::fail(base::Errc::invalid, "store: " + connection.path() +
                                               " is not a Gaffer database (application_id " +
                                               std::to_string(*id) + ", user_version " +
                                               std::to_string(*version) + ")");
}

}  // namespace

base::Result<Database> Database::open(const std::string& state_dir) {
    if (auto made = ensure_directory(state_dir); !made) return tl::unexpected(std::move(made.error()));
    auto connection = detail::Connection::open(state_dir + "/" + std::string(kFileName));
    if (!connection) return tl::unexpected(std::move(connection.error()));
    if (auto done = configure(**connection); !done) return tl::unexpected(std::move(done.error()));
    if (auto owned = check_owner(**connection); !owned) return tl::unexpected(std::move(owned.error()));
    if (auto wal = enable_wal(**connection); !wal) return tl::unexpected(std::move(wal.error()));
    auto version = detail::migrate(**connection, detail::gaffer_migrations());
    if (!version) return tl::unexpected(std::move(version.error()));
    return Database(std::move(*connection), *version);
}

Database::Database(std::unique_ptr<detail::Connection> connection, int schema_version)
    : connection_(std::move(connection)), schema_version_(schema_version) {}

Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;
Database::~Database() = default;

const std::string& Database::path() const {
    return connection_->path();
}

int Database::supported_schema_version() {
    return static_cast<int>(detail::gaffer_migrations().size());
}

base::Result<ConnectionSettings> Database::settings() {
    ConnectionSettings out;
    auto mode = connection_->read_text(kReadJournalMode, "read journal_mode");
    if (!mode) return tl::unexpected(std::move(mode.error()));
    out.journal_mode = *mode;
    auto sync = connection_->read_integer(kReadSynchronous, "read synchronous");
    if (!sync) return tl::unexpected(std::move(sync.error()));
    out.synchronous = static_cast<int>(*sync);
    auto busy = connection_->read_integer(kReadBusyTimeout, "read busy_timeout");
    if (!busy) return tl::unexpected(std::move(busy.error()));
    out.busy_timeout_ms = static_cast<int>(*busy);
    auto keys = connection_->read_integer(kReadForeignKeys, "read foreign_keys");
    if (!keys) return tl::unexpected(std::move(keys.error()));
    out.foreign_keys = *keys != 0;
    return out;
}

}  // namespace gaffer::store
