// Device records: names, the strict JSON shape, and passwords.
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdlib>

#include "devices/registry/registry.hpp"

namespace gaffer::registry {
namespace {

bool name_byte(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == ':' || c == '_' || c == '-';
}

base::Result<void> validate_name(std::string_view what, std::string_view name) {
    if (name.empty()) return base::fail(base::Errc::invalid, std::string(what) + " is empty");
    if (name.size() > kMaxThingName)
        return base::fail(base::Errc::invalid, std::string(what) + " is " +
                                                   std::to_string(name.size()) +
                                                   " bytes; at most 128 are allowed");
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (!name_byte(name[i]))
            return base::fail(base::Errc::invalid,
                              std::string(what) + " " + base::quoted(name) +
                                  " has a byte outside [a-zA-Z0-9:_-] at offset " +
                                  std::to_string(i));
    }
    return {};
}

base::Result<void> check_attributes(const nlohmann::json& attributes) {
    if (!attributes.is_object())
        return base::fail(base::Errc::invalid, "\"attributes\" must be an object");
    if (attributes.size() > kMaxAttributes)
        return base::fail(base::Errc::invalid, "\"attributes\" has " +
                                                   std::to_string(attributes.size()) +
                                                   " entries; at most 50 are allowed");
    for (const auto& [key, value] : attributes.items()) {
        if (key.empty() || key.size() > kMaxThingName)
            return base::fail(base::Errc::invalid,
                              "attribute names must be 1..128 bytes, got " + base::quoted(key));
        if (!value.is_string() && !value.is_number() && !value.is_boolean())
            return base::fail(base::Errc::invalid,
                              "attribute " + base::quoted(key) +
                                  " must be a string, number or boolean, not " +
                                  value.type_name());
    }
    return {};
}

base::Result<std::vector<std::string>> parse_groups(const nlohmann::json& groups) {
    if (!groups.is_array())
        return base::fail(base::Errc::invalid, "\"groups\" must be an array of strings");
    if (groups.size() > kMaxGroups)
        return base::fail(base::Errc::invalid, "\"groups\" has " + std::to_string(groups.size()) +
                                                   " entries; at most 16 are allowed");
    std::vector<std::string> out;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const std::string where = "groups[" + std::to_string(i) + "]";
        if (!groups[i].is_string())
            return base::fail(base::Errc::invalid, where + " must be a string");
        auto name = groups[i].get<std::string>();
        if (auto ok = validate_name(where, name); !ok) return tl::unexpected(ok.error());
        for (const auto& seen : out)
            if (seen == name)
                return base::fail(base::Errc::invalid,
                                  where + " repeats group " + base::quoted(name));
        out.push_back(std::move(name));
    }
    return out;
}

}  // namespace

base::Result<void> validate_thing_name(std::string_view thing) {
    return validate_name("thing name", thing);
}

base::Result<void> validate_group_name(std::string_view group) {
    return validate_name("group name", group);
}

base::Result<Device> parse_device(std::string_view json) {
    if (json.size() > kMaxDeviceJson)
        return base::fail(base::Errc::invalid, "device document is " + std::to_string(json.size()) +
                                                   " bytes; at most 8192 are allowed");
    auto doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return base::fail(base::Errc::invalid, "device document is not JSON");
    if (!doc.is_object()) return base::fail(base::Errc::invalid, "device document must be an object");
    static const std::vector<std::string_view> keys = {"thing", "attributes", "groups"};
    for (const auto& [key, value] : doc.items()) {
        (void)value;
        if (key == "thing" || key == "attributes" || key == "groups") continue;
        std::string message = "unknown key " + base::quoted(key) + " in device document";
        if (auto near = base::closest_match(key, keys))
            message += " (did you mean " + base::quoted(*near) + "?)";
        return base::fail(base::Errc::invalid, message);
    }
    Device device;
    auto thing = doc.find("thing");
    if (thing == doc.end()) return base::fail(base::Errc::invalid, "\"thing\" is required");
    if (!thing->is_string()) return base::fail(base::Errc::invalid, "\"thing\" must be a string");
    device.thing = thing->get<std::string>();
    if (auto ok = validate_thing_name(device.thing); !ok) return tl::unexpected(ok.error());
    if (auto attributes = doc.find("attributes"); attributes != doc.end()) {
        if (auto ok = check_attributes(*attributes); !ok) return tl::unexpected(ok.error());
        device.attributes = *attributes;
    }
    if (auto groups = doc.find("groups"); groups != doc.end()) {
        auto parsed = parse_groups(*groups);
        if (!parsed) return tl::unexpected(parsed.error());
        device.groups = std::move(*parsed);
    }
    return device;
}

nlohmann::json to_json(const Device& device) {
    return {{"thing", device.thing}, {"attributes", device.attributes}, {"groups", device.groups}};
}

std::string generate_password() {
    std::array<unsigned char, 16> bytes{};
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        ssize_t got = getrandom(bytes.data() + filled, bytes.size() - filled, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            std::abort();  // no kernel randomness: nothing safe to hand out
        }
        filled += static_cast<std::size_t>(got);
    }
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(alphabet[(buffer >> bits) & 0x3f]);
        }
    }
    if (bits > 0) out.push_back(alphabet[(buffer << (6 - bits)) & 0x3f]);
    return out;
}

}  // namespace gaffer::registry
