// Shadow write throughput on this machine's disk: put_shadow committing alone, and inside
// batches of 1, 10 and 100 (group commit). Every commit is fsynced (synchronous=FULL).
// Built with the unit tests, not registered as one: its numbers depend on the disk.
//
//   shadow_bench [parent-dir (default /var/tmp)] [seconds per run (default 3)]
#include <stdlib.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "coordinator/store/store.hpp"

namespace {

using gaffer::store::Database;
using gaffer::store::StoredDevice;
using gaffer::store::StoredShadow;
using Clock = std::chrono::steady_clock;

constexpr int kDevices = 100;

struct Rates {
    double commits_per_s;
    double updates_per_s;
    double cpu_us_per_update;  // this process's CPU time: what is left when the disk is free
};

double cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "shadow_bench: %s\n", what.c_str());
    std::exit(1);
}

// batch_size 0: no Batch at all, every put_shadow commits alone.
Rates run(Database& db, int batch_size, double seconds, std::int64_t& version) {
    const std::string document = R"({"state":{"reported":{"temperature":21.5,"humidity":40,)"
                                 R"("firmware":"1.4.2","pad":")" + std::string(600, 'x') +
                                 R"("}},"metadata":{},"version":)";
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    long commits = 0;
    long updates = 0;
    while (Clock::now() < deadline) {
        const int per_commit = batch_size == 0 ? 1 : batch_size;
        std::optional<gaffer::store::Batch> batch;
        if (batch_size > 0) {
            auto opened = db.begin_batch();
            if (!opened) die(opened.error().message);
            batch.emplace(std::move(*opened));
        }
        for (int i = 0; i < per_commit; ++i) {
            ++version;
            StoredShadow shadow{"dev-" + std::to_string(version % kDevices), "",
                                document + std::to_string(version) + "}", version, false, version};
            if (auto done = db.put_shadow(shadow); !done) die(done.error().message);
            ++updates;
        }
        if (batch) {
            if (auto done = batch->commit(); !done) die(done.error().message);
        }
        ++commits;
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu = cpu_seconds() - cpu_start;
    return Rates{static_cast<double>(commits) / elapsed, static_cast<double>(updates) / elapsed,
                 cpu * 1e6 / static_cast<double>(updates)};
}

}  // namespace

int main(int argc, char** argv) {
    const std::string parent = argc > 1 ? argv[1] : "/var/tmp";
    const double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;
    std::string dir = parent + "/gaffer-shadow-bench-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) die("mkdtemp in " + parent + " failed");

    {
        auto db = Database::open(dir + "/state");
        if (!db) die(db.error().message);
        for (int i = 0; i < kDevices; ++i) {
            StoredDevice device;
            device.thing = "dev-" + std::to_string(i);
            if (auto done = db->add_device(device); !done) die(done.error().message);
        }
        std::int64_t version = 0;
        (void)run(*db, 0, 0.5, version);  // warm the cache and the WAL
        std::printf("shadow_bench: %s, %.1f s per run, ~0.7 KiB documents, synchronous=FULL\n",
                    db->path().c_str(), seconds);
        std::printf("%-22s %12s %12s %16s\n", "mode", "commits/s", "updates/s", "CPU us/update");
        const struct {
            const char* name;
            int batch_size;
        } modes[] = {{"put_shadow alone", 0}, {"batch of 1", 1}, {"batch of 10", 10}, {"batch of 100", 100}};
        for (const auto& mode : modes) {
            Rates rates = run(*db, mode.batch_size, seconds, version);
            std::printf("%-22s %12.0f %12.0f %16.1f\n", mode.name, rates.commits_per_s,
                        rates.updates_per_s, rates.cpu_us_per_update);
        }
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return 0;
}
