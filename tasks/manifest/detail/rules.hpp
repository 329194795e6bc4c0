// Value rules shared by the manifest's fields. Each returns the reason a value is
// refused, phrased to follow "<path>: ", or nullopt when the value is fine.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gaffer::manifest::detail {

// Task and owner names: [a-z0-9][a-z0-9_.-]{0,62}.
std::optional<std::string> name_problem(std::string_view name);
// An absolute path without ".." components, shorter than PATH_MAX.
std::optional<std::string> absolute_path_problem(std::string_view path);
// command[0]: absolute, or relative to /task without ".." components.
std::optional<std::string> program_problem(std::string_view program);
// A user or group: a POSIX-ish account name ([a-z_][a-z0-9_-]{0,31}) or a numeric id.
std::optional<std::string> account_problem(std::string_view account);
// An environment variable name: a C identifier of at most 255 bytes.
std::optional<std::string> variable_name_problem(std::string_view name);
// Free text (version, handler): 1..max_bytes printable bytes, no control characters.
std::optional<std::string> text_problem(std::string_view text, std::size_t max_bytes);

}  // namespace gaffer::manifest::detail
