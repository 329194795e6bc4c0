// Shadow names and topics: $aws/things/T/shadow[/name/S]/{get,update,delete}.
#include "devices/shadow/shadow.hpp"

namespace gaffer::shadow {
namespace {

bool valid_name(std::string_view name, std::size_t max) {
    if (name.empty() || name.size() > max) return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == ':' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

// Splits at '/', keeping empty levels (MQTT topics may have them); at most `max` levels
// are kept so that a long topic costs nothing: more than that is not a request anyway.
std::size_t split(std::string_view topic, std::string_view* out, std::size_t max) {
    std::size_t n = 0;
    while (true) {
        if (n == max) return max + 1;
        const auto slash = topic.find('/');
        out[n++] = topic.substr(0, slash);
        if (slash == std::string_view::npos) return n;
        topic.remove_prefix(slash + 1);
    }
}

std::optional<Operation> parse_operation(std::string_view level) {
    if (level == "get") return Operation::get;
    if (level == "update") return Operation::update;
    if (level == "delete") return Operation::remove;
    return std::nullopt;
}

}  // namespace

bool valid_thing_name(std::string_view thing) { return valid_name(thing, 128); }
bool valid_shadow_name(std::string_view name) { return valid_name(name, 64); }

std::optional<Request> parse_request_topic(std::string_view topic) {
    constexpr std::size_t kMaxLevels = 7;
    std::string_view levels[kMaxLevels];
    const std::size_t n = split(topic, levels, kMaxLevels);
    if (n != 5 && n != 7) return std::nullopt;
    if (levels[0] != "$aws" || levels[1] != "things" || levels[3] != "shadow") return std::nullopt;
    if (!valid_thing_name(levels[2])) return std::nullopt;
    std::string_view name;
    if (n == 7) {
        if (levels[4] != "name" || !valid_shadow_name(levels[5])) return std::nullopt;
        name = levels[5];
    }
    const auto op = parse_operation(levels[n - 1]);
    if (!op) return std::nullopt;
    return Request{Key{std::string(levels[2]), std::string(name)}, *op};
}

std::string topic_prefix(const Key& key) {
    std::string prefix;
    prefix.reserve(20 + key.thing.size() + (key.name.empty() ? 0 : 6 + key.name.size()));
    prefix.append("$aws/things/").append(key.thing).append("/shadow");
    if (!key.name.empty()) prefix.append("/name/").append(key.name);
    return prefix;
}

}  // namespace gaffer::shadow
