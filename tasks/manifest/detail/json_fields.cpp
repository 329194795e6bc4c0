#include "tasks/manifest/detail/json_fields.hpp"

#include <algorithm>
#include <set>
#include <vector>

namespace gaffer::manifest::detail {
namespace {

// Tracks where the parser is, so that a duplicate key can be reported with its path.
// Driven by nlohmann's parser callback: every array element announces itself with
// exactly one of value / object_start / array_start.
class DuplicateKeyFinder {
public:
    bool on_event(json::parse_event_t event, const json& parsed) {
        using E = json::parse_event_t;
        if (event == E::key) {
            Frame& top = frames_.back();
            const auto& key = parsed.get_ref<const std::string&>();
            if (!top.keys.insert(key).second && !duplicate_)
                duplicate_ = path() + (frames_.size() > 1 ? ": " : "") + "duplicate field \"" +
                             key + "\"";
            top.key = key;
            return true;
        }
        if (event == E::value || event == E::object_start || event == E::array_start) {
            if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
        }
        if (event == E::object_start || event == E::array_start)
            frames_.push_back(Frame{event == E::object_start, {}, {}, 0});
        if (event == E::object_end || event == E::array_end) frames_.pop_back();
        return true;
    }
    const std::optional<std::string>& duplicate() const { return duplicate_; }

private:
    struct Frame {
        bool is_object;
        std::set<std::string> keys;
        std::string key;
        std::size_t index;
    };
    // The path of the innermost open container (the one receiving the key).
    std::string path() const {
        std::string out;
        for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
            const Frame& f = frames_[i];
            out = f.is_object ? member_path(out, f.key) : element_path(out, f.index - 1);
        }
        return out;
    }

    std::vector<Frame> frames_;
    std::optional<std::string> duplicate_;
};

}  // namespace

base::Result<json> parse_strict(std::string_view text) {
    DuplicateKeyFinder finder;
    json::parser_callback_t callback = [&finder](int, json::parse_event_t event, json& parsed) {
        return finder.on_event(event, parsed);
    };
    try {
        json document = json::parse(text.begin(), text.end(), callback);
        if (finder.duplicate()) return base::fail(base::Errc::invalid, *finder.duplicate());
        return document;
    } catch (const json::parse_error& e) {
        // what() reads "[json.exception.parse_error.101] parse error at line 1, column 5:
        // syntax error ..."; keep only the part after the position, which we give as a byte.
        std::string_view what = e.what();
        const auto colon = what.find(": ", what.find("column"));
        std::string_view reason = colon == std::string_view::npos ? what : what.substr(colon + 2);
        return base::fail(base::Errc::invalid,
                          "malformed JSON at byte " + std::to_string(e.byte) + ": " +
                              std::string(reason));
    }
}

std::string member_path(std::string_view parent, std::string_view key) {
    std::string out(parent);
    if (!out.empty()) out += '.';
    out += key;
    return out;
}

std::string element_path(std::string_view parent, std::size_t index) {
    return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string describe(const json& value) {
    switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_float: return "a fraction";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    default: return value.type_name();
    }
}

void FieldReader::fail(std::string_view path, std::string_view reason) {
    if (first_error_) return;
    first_error_ = path.empty() ? std::string(reason) : std::string(path) + ": " + std::string(reason);
}

base::Result<void> FieldReader::result() const {
    if (first_error_) return base::fail(base::Errc::invalid, *first_error_);
    return {};
}

std::optional<std::string> FieldReader::string(const json& value, std::string_view path) {
    if (!value.is_string()) {
        fail(path, "must be a string, not " + describe(value));
        return std::nullopt;
    }
    const auto& text = value.get_ref<const std::string&>();
    if (text.find('\0') != std::string::npos) {
        fail(path, "must not contain a NUL byte");
        return std::nullopt;
    }
    return text;
}

std::optional<bool> FieldReader::boolean(const json& value, std::string_view path) {
    if (!value.is_boolean()) {
        fail(path, "must be true or false, not " + describe(value));
        return std::nullopt;
    }
    return value.get<bool>();
}

std::optional<std::int64_t> FieldReader::integer(const json& value, std::string_view path,
                                                 std::int64_t min, std::int64_t max) {
    const std::string range = "between " + std::to_string(min) + " and " + std::to_string(max);
    if (!value.is_number_integer()) {
        fail(path, "must be an integer " + range + ", not " + describe(value));
        return std::nullopt;
    }
    const bool too_big = value.is_number_unsigned() &&
                         value.get<std::uint64_t>() > static_cast<std::uint64_t>(max);
    if (too_big || value.get<std::int64_t>() < min || value.get<std::int64_t>() > max) {
        fail(path, "must be " + range + " (got " + value.dump() + ")");
        return std::nullopt;
    }
    return value.get<std::int64_t>();
}

bool FieldReader::object(const json& value, std::string_view path) {
    if (value.is_object()) return true;
    fail(path, "must be an object, not " + describe(value));
    return false;
}

bool FieldReader::array(const json& value, std::string_view path, std::size_t max_items) {
    if (!value.is_array()) {
        fail(path, "must be an array, not " + describe(value));
        return false;
    }
    if (value.size() > max_items) {
        fail(path, "has " + std::to_string(value.size()) + " items; at most " +
                       std::to_string(max_items) + " are allowed");
        return false;
    }
    return true;
}

void FieldReader::only_known(const json& object, std::string_view path,
                             std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : object.items()) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        std::string reason = "unknown field \"" + key + "\"";
        if (auto guess = base::closest_match(key, known)) reason += " (did you mean \"" + std::string(*guess) + "\"?)";
        fail(path, reason);
        return;
    }
}

}  // namespace gaffer::manifest::detail
