// dynsec command JSON (mosquitto 2.0.11, $CONTROL/dynamic-security/v1) and its responses.
#include "devices/registry/registry.hpp"

namespace gaffer::registry {
namespace {

nlohmann::json acl_array(const std::vector<Acl>& acls) {
    auto out = nlohmann::json::array();
    for (const auto& acl : acls)
        out.push_back({{"acltype", acl.type}, {"topic", acl.topic}, {"priority", acl.priority},
                       {"allow", acl.allow}});
    return out;
}

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

Command create_client_command(std::string_view thing, std::string_view password,
                              std::string_view role) {
    return {{"command", "createClient"},
            {"username", thing},
            {"clientid", thing},
            {"password", password},
            {"roles", nlohmann::json::array({{{"rolename", role}}})}};
}

Command delete_client_command(std::string_view username) {
    return {{"command", "deleteClient"}, {"username", username}};
}

Command set_password_command(std::string_view username, std::string_view password) {
    return {{"command", "setClientPassword"}, {"username", username}, {"password", password}};
}

Command get_client_command(std::string_view username) {
    return {{"command", "getClient"}, {"username", username}};
}

Command list_clients_command() {
    // Without "count" the plugin lists every client.
    return {{"command", "listClients"}, {"verbose", true}};
}

Command add_client_role_command(std::string_view username, std::string_view role) {
    return {{"command", "addClientRole"}, {"username", username}, {"rolename", role}};
}

Command create_role_command(std::string_view role, const std::vector<Acl>& acls) {
    return {{"command", "createRole"}, {"rolename", role}, {"acls", acl_array(acls)}};
}

Command modify_role_command(std::string_view role, const std::vector<Acl>& acls) {
    return {{"command", "modifyRole"}, {"rolename", role}, {"acls", acl_array(acls)}};
}

Command delete_role_command(std::string_view role) {
    return {{"command", "deleteRole"}, {"rolename", role}};
}

Command list_roles_command() { return {{"command", "listRoles"}, {"verbose", true}}; }

std::string commands_payload(const std::vector<Command>& commands) {
    return nlohmann::json{{"commands", commands}}.dump();
}

base::Result<std::vector<CommandResult>> parse_responses(std::string_view payload) {
    auto doc = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return base::fail(base::Errc::invalid, "dynsec response is not JSON");
    auto responses = doc.is_object() ? doc.find("responses") : doc.end();
    if (!doc.is_object() || responses == doc.end() || !responses->is_array())
        return base::fail(base::Errc::invalid, "dynsec response has no \"responses\" array");
    std::vector<CommandResult> out;
    for (std::size_t i = 0; i < responses->size(); ++i) {
        const auto& r = (*responses)[i];
        auto command = r.is_object() ? r.find("command") : r.end();
        if (!r.is_object() || command == r.end() || !command->is_string())
            return base::fail(base::Errc::invalid,
                              "dynsec response " + std::to_string(i) + " has no \"command\"");
        CommandResult result;
        result.command = command->get<std::string>();
        if (auto e = r.find("error"); e != r.end())
            result.error = e->is_string() ? e->get<std::string>() : e->dump();
        if (auto d = r.find("data"); d != r.end()) result.data = *d;
        if (auto c = r.find("correlationData"); c != r.end() && c->is_string())
            result.correlation = c->get<std::string>();
        out.push_back(std::move(result));
    }
    return out;
}

base::Error result_error(const CommandResult& result) {
    const std::string text = result.error.value_or("no error");
    auto code = base::Errc::invalid;
    if (ends_with(text, "already exists")) code = base::Errc::conflict;
    else if (ends_with(text, "not found") || text == "Role does not exist")
        code = base::Errc::not_found;
    return base::Error{code, "broker refused " + result.command + ": " + text};
}

}  // namespace gaffer::registry
