#include "tasks/manifest/detail/rules.hpp"

#include <cstdint>

#include "coordinator/base/base.hpp"

namespace gaffer::manifest::detail {
namespace {

using base::quoted;

bool lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

bool has_dotdot_component(std::string_view path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        if (path.substr(start, end - start) == "..") return true;
        start = end + 1;
    }
    return false;
}

}  // namespace

std::optional<std::string> name_problem(std::string_view name) {
    bool ok = !name.empty() && name.size() <= 63 && lower_or_digit(name[0]);
    for (char c : name) ok = ok && (lower_or_digit(c) || c == '_' || c == '.' || c == '-');
    if (ok) return std::nullopt;
    return quoted(name) + " is not a valid name (1-63 of a-z 0-9 _ . -, starting with a-z or 0-9)";
}

std::optional<std::string> absolute_path_problem(std::string_view path) {
    if (path.empty() || path[0] != '/') return quoted(path) + " must be an absolute path";
    if (path.size() >= 4096) return "path is longer than 4095 bytes";
    if (has_dotdot_component(path)) return quoted(path) + " must not contain \"..\" components";
    return std::nullopt;
}

std::optional<std::string> program_problem(std::string_view program) {
    if (program.empty()) return std::string("must not be empty");
    if (program[0] == '/') return absolute_path_problem(program);
    if (has_dotdot_component(program))
        return quoted(program) + " must not contain \"..\" components (relative paths are inside /task)";
    return std::nullopt;
}

std::optional<std::string> account_problem(std::string_view account) {
    if (!account.empty() && digit(account[0])) {
        std::uint64_t id = 0;
        for (char c : account) {
            if (!digit(c) || account.size() > 10) return quoted(account) + " is not a valid numeric id";
            id = id * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (id > 4294967294u) return quoted(account) + " is not a valid numeric id (at most 4294967294)";
        return std::nullopt;
    }
    bool ok = !account.empty() && account.size() <= 32 &&
              ((account[0] >= 'a' && account[0] <= 'z') || account[0] == '_');
    for (char c : account) ok = ok && (lower_or_digit(c) || c == '_' || c == '-');
    if (ok) return std::nullopt;
    return quoted(account) + " is not a valid account name ([a-z_][a-z0-9_-]{0,31}) or numeric id";
}

std::optional<std::string> variable_name_problem(std::string_view name) {
    auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    bool ok = !name.empty() && name.size() <= 255 && letter(name[0]);
    for (char c : name) ok = ok && (letter(c) || digit(c));
    if (ok) return std::nullopt;
    return quoted(name) + " is not a valid variable name (letters, digits and _, not starting with a digit)";
}

std::optional<std::string> text_problem(std::string_view text, std::size_t max_bytes) {
    if (text.empty()) return std::string("must not be empty");
    if (text.size() > max_bytes) return "is longer than " + std::to_string(max_bytes) + " bytes";
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) return std::string("must not contain control characters");
    }
    return std::nullopt;
}

}  // namespace gaffer::manifest::detail
