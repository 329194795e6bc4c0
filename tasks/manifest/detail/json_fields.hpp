// Reading validated fields out of a JSON document. Every failure is phrased
// "<json path>: <reason>"; only the first one is kept, because later ones are usually
// consequences of it and one precise message is what a person fixes first.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "coordinator/base/base.hpp"

namespace gaffer::manifest::detail {

using nlohmann::json;

// Parses JSON text. Malformed text gives `malformed JSON at byte N: ...`; an object
// that repeats a key gives `<path>: duplicate field "key"` (nlohmann would silently keep
// the last one, hiding a mistake).
base::Result<json> parse_strict(std::string_view text);

// "a" + "b" -> "a.b"; "" + "b" -> "b".
std::string member_path(std::string_view parent, std::string_view key);
// "a" + 2 -> "a[2]".
std::string element_path(std::string_view parent, std::size_t index);

// "a string", "an array", "a fraction", "null": the JSON type of `value`, for messages.
std::string describe(const json& value);

class FieldReader {
public:
    // Records a failure unless one is already recorded.
    void fail(std::string_view path, std::string_view reason);
    bool ok() const { return !first_error_; }
    // The first failure as Errc::invalid, or success.
    base::Result<void> result() const;

    // Type-checked reads: nullopt (with a recorded failure) on the wrong JSON type.
    // Strings are also refused when they contain a NUL byte.
    std::optional<std::string> string(const json& value, std::string_view path);
    std::optional<bool> boolean(const json& value, std::string_view path);
    // An integer within [min, max]; floats such as 2.0 are refused.
    std::optional<std::int64_t> integer(const json& value, std::string_view path,
                                        std::int64_t min, std::int64_t max);
    // true when `value` is an object / array, otherwise records a failure.
    bool object(const json& value, std::string_view path);
    bool array(const json& value, std::string_view path, std::size_t max_items);
    // Records `unknown field "x" (did you mean "y"?)` for the first key not in `known`.
    void only_known(const json& object, std::string_view path,
                    std::initializer_list<std::string_view> known);

private:
    std::optional<std::string> first_error_;
};

}  // namespace gaffer::manifest::detail
