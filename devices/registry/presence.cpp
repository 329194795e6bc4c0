// Presence from mosquitto 2.0.11's connection log lines (log_dest topic, NOTICE level).
#include "devices/registry/registry.hpp"

namespace gaffer::registry {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

std::optional<PresenceEvent> event(std::string_view id, bool connected) {
    if (!validate_thing_name(id)) return std::nullopt;  // "<unknown>", gafferd's own ids, ...
    return PresenceEvent{std::string(id), connected};
}

// "New client connected from 127.0.0.1:50722 as a (p2, c1, k60, u'a')."
std::optional<PresenceEvent> connected_line(std::string_view line) {
    constexpr std::string_view kLead = "New client connected from ";
    if (!starts_with(line, kLead)) return std::nullopt;
    auto as = line.find(" as ", kLead.size());
    if (as == std::string_view::npos) return std::nullopt;
    auto rest = line.substr(as + 4);
    auto paren = rest.find(" (");
    if (paren == std::string_view::npos) return std::nullopt;
    auto id = rest.substr(0, paren);
    // Devices connect with username == client id; anything else is not a device session.
    auto user = rest.find(", u'", paren);
    if (user == std::string_view::npos) return std::nullopt;
    auto name = rest.substr(user + 4);
    if (!starts_with(name, id) || name.substr(id.size()) != "').") return std::nullopt;
    return event(id, true);
}

std::optional<PresenceEvent> disconnected_line(std::string_view line) {
    constexpr std::string_view kBadSocket = "Bad socket read/write on client ";
    if (starts_with(line, kBadSocket)) {
        auto rest = line.substr(kBadSocket.size());
        auto colon = rest.find(": ");
        if (colon == std::string_view::npos) return std::nullopt;
        return event(rest.substr(0, colon), false);
    }
    constexpr std::string_view kClient = "Client ";
    if (!starts_with(line, kClient)) return std::nullopt;
    auto rest = line.substr(kClient.size());
    auto space = rest.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    auto id = rest.substr(0, space);
    auto tail = rest.substr(space + 1);
    // A refused login ("disconnected, not authorised.") was never connected; "already
    // connected, closing old connection." precedes the new session's connect line.
    static constexpr std::string_view kGone[] = {
        "disconnected.", "closed its connection.", "has exceeded timeout, disconnecting.",
        "been disconnected by administrative action."};
    for (auto gone : kGone)
        if (tail == gone) return event(id, false);
    if (starts_with(tail, "disconnected: ") || starts_with(tail, "disconnected due to "))
        return event(id, false);
    return std::nullopt;
}

}  // namespace

std::optional<PresenceEvent> parse_presence(std::string_view topic, std::string_view payload) {
    if (topic != kPresenceTopic) return std::nullopt;
    while (!payload.empty() && (payload.back() == '\n' || payload.back() == '\r'))
        payload.remove_suffix(1);
    // The line as logged, or after its timestamp: "1795908798: ..." by default, or a
    // log_timestamp_format text; either way the first ": " ends it.
    std::string_view candidates[2] = {payload, {}};
    if (auto prefix = payload.find(": "); prefix != std::string_view::npos)
        candidates[1] = payload.substr(prefix + 2);
    for (auto line : candidates) {
        if (line.empty()) continue;
        if (auto e = connected_line(line)) return e;
        if (auto e = disconnected_line(line)) return e;
    }
    return std::nullopt;
}

}  // namespace gaffer::registry
