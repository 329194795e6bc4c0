// Small helpers shared by the benchmarks: timing samples and percentiles.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace gaffer::bench {

using Clock = std::chrono::steady_clock;

inline double micros_since(Clock::time_point start) {
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

struct Samples {
    std::vector<double> values;  // microseconds

    double percentile(double p) {
        if (values.empty()) return 0;
        std::sort(values.begin(), values.end());
        auto index = static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size() - 1) + 0.5);
        return values[std::min(index, values.size() - 1)];
    }
};

// One machine-readable line per figure: `name<TAB>value<TAB>unit`; bench/run makes the table.
inline void report(const std::string& name, double value, const char* unit) {
    std::printf("%s\t%.2f\t%s\n", name.c_str(), value, unit);
    std::fflush(stdout);
}

}  // namespace gaffer::bench
