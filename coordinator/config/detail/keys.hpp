// The schema of gaffer.toml: which sections and keys exist and how each value is checked
// and stored. Independent of the TOML library: parse.cpp hands values over as `Value`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/config/config.hpp"

namespace gaffer::config::detail {

// One TOML value, reduced to what the schema needs.
struct Value {
    enum class Kind { string, integer, floating, boolean, other } kind = Kind::other;
    std::string text;          // string: the text; every kind: how it was written
    std::int64_t integer = 0;
    double floating = 0;
    bool boolean = false;
    std::string description;   // "a string", "an array", ... for messages
};

// Section names in documentation order.
const std::vector<std::string_view>& sections();
// The keys of `section` in documentation order; empty for an unknown section.
std::vector<std::string_view> keys_of(std::string_view section);

// Checks `value` for section.key (which must exist) and stores it in `config`.
// Returns the reason it was refused, to follow "section.key: ".
std::optional<std::string> apply(std::string_view section, std::string_view key,
                                 const Value& value, Config& config);

// Rules between keys, checked once all are applied: a full "section.key: reason".
std::optional<std::string> check_consistency(const Config& config);

}  // namespace gaffer::config::detail
