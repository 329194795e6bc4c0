// gaffer.toml → Config. toml11 does the TOML grammar; everything about which keys exist
// and what they may hold is in detail/keys.cpp. toml11 reports problems by throwing, so
// this is the one place exceptions are caught and turned into Result values.
#include <algorithm>
#include <sstream>
#include <vector>

#include <toml.hpp>

#include "coordinator/config/config.hpp"
#include "coordinator/config/detail/keys.hpp"

namespace gaffer::config {
namespace {

constexpr std::size_t kMaxConfigBytes = 1u << 20;

using Table = toml::value::table_type;

detail::Value reduce(const toml::value& v) {
    detail::Value out;
    switch (v.type()) {
    case toml::value_t::string:
        out.kind = detail::Value::Kind::string;
        out.text = v.as_string().str;
        out.description = "a string";
        break;
    case toml::value_t::integer:
        out.kind = detail::Value::Kind::integer;
        out.integer = v.as_integer();
        out.text = std::to_string(out.integer);
        out.description = "an integer";
        break;
    case toml::value_t::floating:
        out.kind = detail::Value::Kind::floating;
        out.floating = v.as_floating();
        out.text = toml::format(v);
        out.description = "a float";
        break;
    case toml::value_t::boolean:
        out.kind = detail::Value::Kind::boolean;
        out.boolean = v.as_boolean();
        out.text = out.boolean ? "true" : "false";
        out.description = "a boolean";
        break;
    case toml::value_t::array: out.description = "an array"; break;
    case toml::value_t::table: out.description = "a table"; break;
    default: out.description = "a date or time"; break;
    }
    return out;
}

// Keys in the order they appear in the file, so that the first problem reported is the
// first one a reader meets (toml11 keeps tables unordered).
std::vector<std::pair<std::string, const toml::value*>> in_file_order(const Table& table) {
    std::vector<std::pair<std::string, const toml::value*>> out;
    for (const auto& [key, value] : table) out.emplace_back(key, &value);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        const auto la = a.second->location().line(), lb = b.second->location().line();
        return la != lb ? la < lb : a.first < b.first;
    });
    return out;
}

std::string section_list() {
    std::string out;
    for (auto s : detail::sections()) out += (out.empty() ? "[" : ", [") + std::string(s) + "]";
    return out;
}

// A top-level key that is not a section: say which section it belongs in, if any.
std::string stray_key_message(const std::string& key) {
    for (auto section : detail::sections()) {
        auto keys = detail::keys_of(section);
        if (std::find(keys.begin(), keys.end(), key) != keys.end())
            return key + ": must be inside [" + std::string(section) + "]";
    }
    return key + ": unknown key (settings live in the sections " + section_list() + ")";
}

base::Result<void> apply_section(const std::string& section, const toml::value& body, Config& config) {
    if (!body.is_table())
        return base::fail(base::Errc::invalid, section + ": must be a table ([" + section + "]), not " +
                                                   reduce(body).description);
    const auto known = detail::keys_of(section);
    for (const auto& [key, value] : in_file_order(body.as_table())) {
        const std::string path = section + "." + key;
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            std::string message = path + ": unknown key";
            if (auto guess = base::closest_match(key, known)) message += " (did you mean \"" + std::string(*guess) + "\"?)";
            return base::fail(base::Errc::invalid, message);
        }
        if (auto reason = detail::apply(section, key, reduce(*value), config))
            return base::fail(base::Errc::invalid, path + ": " + *reason);
    }
    return {};
}

// toml11's what() is a multi-line report: "[error] toml::parse_x: reason", the source
// line, and "^--- detail" under it. Keep the reason and the detail on one line.
std::string syntax_message(const toml::exception& e) {
    std::istringstream lines(e.what());
    std::string line, reason, detail;
    std::getline(lines, reason);
    if (auto p = reason.find("[error] "); p != std::string::npos) reason.erase(0, p + 8);
    if (reason.rfind("toml::", 0) == 0) reason.erase(0, reason.find(": ") + 2);
    // With two markers (a key defined twice) the last one is at the reported line.
    while (std::getline(lines, line)) {
        if (auto p = line.find("^--- "); p != std::string::npos) detail = line.substr(p + 5);
    }
    for (std::string* text : {&reason, &detail}) {
        if (!text->empty() && text->back() == '.') text->pop_back();
    }
    std::string message = "line " + std::to_string(e.location().line()) + ": " + reason;
    if (!detail.empty() && detail != "here") message += " (" + detail + ")";
    if (reason.find("leading zero") != std::string::npos)
        message += "; write a mode such as socket_mode as \"0660\" or 0o660";
    for (const char* unit : {"'s'", "'m'", "'h'"}) {
        if (detail.find(std::string("but got ") + unit) != std::string::npos)
            message += "; durations are strings, e.g. \"5m\"";
    }
    return message;
}

}  // namespace

base::Result<Config> parse(std::string_view toml_text) {
    if (toml_text.size() > kMaxConfigBytes)
        return base::fail(base::Errc::invalid, "config is " + std::to_string(toml_text.size()) +
                                                   " bytes; at most 1048576 are allowed");
    toml::value document;
    try {
        std::istringstream stream{std::string(toml_text)};
        document = toml::parse(stream, "gaffer.toml");
    } catch (const toml::exception& e) {
        return base::fail(base::Errc::invalid, syntax_message(e));
    } catch (const std::exception& e) {
        return base::fail(base::Errc::invalid, std::string("malformed TOML: ") + e.what());
    }
    Config config;
    for (const auto& [name, body] : in_file_order(document.as_table())) {
        const auto& all = detail::sections();
        if (std::find(all.begin(), all.end(), name) == all.end()) {
            if (!body->is_table()) return base::fail(base::Errc::invalid, stray_key_message(name));
            std::string message = "unknown section [" + name + "]";
            if (auto guess = base::closest_match(name, all)) message += " (did you mean [" + std::string(*guess) + "]?)";
            return base::fail(base::Errc::invalid, message + "; the sections are " + section_list());
        }
        if (auto applied = apply_section(name, *body, config); !applied) return tl::unexpected(applied.error());
    }
    if (auto reason = detail::check_consistency(config)) return base::fail(base::Errc::invalid, *reason);
    return config;
}

}  // namespace gaffer::config
