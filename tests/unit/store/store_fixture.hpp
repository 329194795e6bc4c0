// Shared by the store tests: a private temporary directory, raw SQLite access that goes
// around the store to inspect or damage the file it wrote, and sample rows.
#pragma once

#include <doctest/doctest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "coordinator/store/store.hpp"

namespace gaffer::store::test {

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "gaffer-store-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::string& path() const { return path_; }
    // A state directory that does not exist yet, so open() has to create it.
    std::string state_dir() const { return path_ + "/state"; }
    std::string db_file() const { return state_dir() + "/gaffer.db"; }

private:
    std::string path_;
};

// A plain connection of its own, as another process (the CLI, a backup) would have.
class RawDb {
public:
    explicit RawDb(const std::string& file) {
        if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) != SQLITE_OK)
            throw std::runtime_error("open " + file + ": " + sqlite3_errmsg(db_));
        sqlite3_busy_timeout(db_, 5000);
    }
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;
    ~RawDb() { sqlite3_close_v2(db_); }

    void exec(const std::string& sql) {
        char* message = nullptr;
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
            std::string text = message != nullptr ? message : "?";
            sqlite3_free(message);
            throw std::runtime_error(sql + ": " + text);
        }
    }

    // The first column of the first row, as text ("" when there is no row).
    std::string text(const std::string& sql) {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
            throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
        std::string out;
        if (sqlite3_step(stmt) == SQLITE_ROW) {
            const auto* data = sqlite3_column_text(stmt, 0);
            if (data != nullptr) out = reinterpret_cast<const char*>(data);
        }
        sqlite3_finalize(stmt);
        return out;
    }
    std::int64_t integer(const std::string& sql) { return std::stoll(text(sql)); }

private:
    sqlite3* db_ = nullptr;
};

inline StoredDevice device(const std::string& thing) {
    StoredDevice d;
    d.thing = thing;
    d.attributes_json = R"({"model":"t1000"})";
    d.groups = {"floor-2", "sensors"};
    d.created_at = 1700000000123;
    d.credentials = "pending";
    return d;
}

inline StoredShadow shadow(const std::string& thing, const std::string& name, std::int64_t version) {
    return StoredShadow{thing, name, R"({"state":{"reported":{"v":)" + std::to_string(version) + "}}}",
                        version, false, 1700000000000 + version};
}

template <class T>
void check_error(const base::Result<T>& result, base::Errc code, const std::string& needle = {}) {
    REQUIRE_FALSE(result);
    CHECK(result.error().code == code);
    if (!needle.empty()) CHECK_MESSAGE(result.error().message.find(needle) != std::string::npos,
                                       result.error().message);
}

}  // namespace gaffer::store::test
