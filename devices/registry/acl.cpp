// The ACL set of a device role and of gafferd's core role.
#include <algorithm>

#include "devices/registry/registry.hpp"

namespace gaffer::registry {
namespace {

constexpr std::size_t kMaxFilterBytes = 65535;  // an MQTT string

// dynsec 2.0.11 stores whatever ACL topic it is given ("a/#/b" included) and matches it
// literally, so a malformed filter would silently grant nothing or something odd: check here.
base::Result<void> check_filter(std::string_view what, std::string_view filter) {
    auto bad = [&](const std::string& why) {
        return base::fail(base::Errc::invalid, std::string(what) + " " + base::quoted(filter) + ": " + why);
    };
    if (filter.empty()) return bad("empty topic filter");
    if (filter.size() > kMaxFilterBytes) return bad("longer than 65535 bytes");
    if (filter.find('\0') != std::string_view::npos) return bad("contains NUL");
    std::size_t start = 0;
    while (true) {
        std::size_t end = filter.find('/', start);
        std::string_view level = filter.substr(start, end == std::string_view::npos ? end : end - start);
        bool last = end == std::string_view::npos;
        if (level.find('+') != std::string_view::npos && level != "+")
            return bad("'+' must be a whole level");
        if (level.find('#') != std::string_view::npos && (level != "#" || !last))
            return bad("'#' must be the whole last level");
        if (last) break;
        start = end + 1;
    }
    return {};
}

void add(std::vector<Acl>& acls, std::string_view type, const std::string& topic, bool allow = true,
         int priority = 0) {
    Acl acl{std::string(type), topic, allow, priority};
    if (std::find(acls.begin(), acls.end(), acl) == acls.end()) acls.push_back(std::move(acl));
}

}  // namespace

std::string role_name(std::string_view thing) {
    return std::string(kDeviceRolePrefix) + std::string(thing);
}

base::Result<std::vector<Acl>> device_acls(std::string_view thing, const Grants& grants) {
    if (auto ok = validate_thing_name(thing); !ok) return tl::unexpected(ok.error());
    for (const auto& f : grants.publish) {
        if (auto ok = check_filter("publish grant", f); !ok) return tl::unexpected(ok.error());
        // A device publishing under '$' could forge broker log lines or shadow answers.
        if (f.front() == '$')
            return base::fail(base::Errc::invalid, "publish grant " + base::quoted(f) +
                                                       ": topics under '$' are not grantable");
    }
    for (const auto& f : grants.subscribe) {
        if (auto ok = check_filter("subscribe grant", f); !ok) return tl::unexpected(ok.error());
        if (f.front() == '$' && f.rfind("$aws/things/", 0) != 0)
            return base::fail(base::Errc::invalid,
                              "subscribe grant " + base::quoted(f) +
                                  ": only $aws/things/... is grantable under '$'");
    }
    std::vector<Acl> acls;
    const std::string own = "things/" + std::string(thing) + "/#";
    const std::string shadow = "$aws/things/" + std::string(thing) + "/shadow/#";
    for (const auto& topic : {own, shadow}) {
        add(acls, "publishClientSend", topic);
        add(acls, "subscribePattern", topic);
        add(acls, "publishClientReceive", topic);
    }
    for (const auto& f : grants.publish) add(acls, "publishClientSend", f);
    for (const auto& f : grants.subscribe) {
        add(acls, "subscribePattern", f);
        add(acls, "publishClientReceive", f);
    }
    // "#" does not match topics starting with '$', hence the second deny.
    add(acls, "publishClientReceive", "#", false, -1);
    add(acls, "publishClientReceive", "$aws/#", false, -1);
    return acls;
}

std::vector<Acl> core_acls() {
    std::vector<Acl> acls;
    for (const char* topic : {"#", "$aws/#", "$CONTROL/dynamic-security/#"}) {
        add(acls, "publishClientSend", topic);
        add(acls, "publishClientReceive", topic);
        add(acls, "subscribePattern", topic);
        add(acls, "unsubscribePattern", topic);
    }
    add(acls, "publishClientReceive", "$SYS/#");
    add(acls, "subscribePattern", "$SYS/#");
    add(acls, "unsubscribePattern", "$SYS/#");
    return acls;
}

}  // namespace gaffer::registry
