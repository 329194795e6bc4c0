// Registry::reconcile: make the broker's dynsec state match the records after a (re)connect.
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "devices/registry/detail/registry_impl.hpp"

namespace gaffer::registry {
namespace {

constexpr std::size_t kChunk = 50;  // commands per dynsec batch

// An ACL as the broker lists it, comparable: the broker reorders a role's ACLs.
using AclKey = std::tuple<std::string, std::string, int, bool>;  // type, topic, priority, allow

struct BrokerView {
    std::map<std::string, std::set<std::string>> clients;  // username -> role names
    std::map<std::string, std::optional<std::set<AclKey>>> roles;  // nullopt: ACLs unreadable
    bool admin_has_core = false;
};

std::set<AclKey> acl_keys(const std::vector<Acl>& acls) {
    std::set<AclKey> out;
    for (const auto& a : acls) out.emplace(a.type, a.topic, a.priority, a.allow);
    return out;
}

// A role of listRoles' verbose answer: its name and, if every ACL reads well, its ACLs.
std::optional<std::pair<std::string, std::optional<std::set<AclKey>>>> read_role(const nlohmann::json& role) {
    if (role.is_string()) return std::pair{role.get<std::string>(), std::nullopt};
    if (!role.is_object() || !role.contains("rolename") || !role["rolename"].is_string()) return std::nullopt;
    std::pair<std::string, std::optional<std::set<AclKey>>> out{role["rolename"].get<std::string>(), std::set<AclKey>{}};
    const auto acls = role.contains("acls") ? role["acls"] : nlohmann::json();
    if (!acls.is_array()) out.second.reset();
    for (const auto& a : acls.is_array() ? acls : nlohmann::json::array()) {
        const bool ok = a.is_object() && a.contains("acltype") && a["acltype"].is_string() && a.contains("topic") &&
                        a["topic"].is_string() && a.contains("priority") && a["priority"].is_number_integer() &&
                        a.contains("allow") && a["allow"].is_boolean();
        if (!ok) {
            out.second.reset();
            break;
        }
        out.second->emplace(a["acltype"].get<std::string>(), a["topic"].get<std::string>(), a["priority"].get<int>(),
                            a["allow"].get<bool>());
    }
    return out;
}

std::set<std::string> role_names(const nlohmann::json& roles) {
    std::set<std::string> out;
    if (!roles.is_array()) return out;
    for (const auto& r : roles)
        if (r.is_object() && r.contains("rolename") && r["rolename"].is_string())
            out.insert(r["rolename"].get<std::string>());
    return out;
}

base::Result<BrokerView> read_view(const std::vector<CommandResult>& r) {
    // r: createRole core, modifyRole core, getClient admin, listClients, listRoles
    if (r.size() != 5) return base::fail(base::Errc::io, "dynsec answered the wrong number of commands");
    if (!r[0].ok() && result_error(r[0]).code != base::Errc::conflict)
        return tl::unexpected(result_error(r[0]));
    for (std::size_t i : {1, 3, 4})
        if (!r[i].ok()) return tl::unexpected(result_error(r[i]));
    // The broker's answers are read defensively: a missing or mistyped member is empty.
    auto member = [](const nlohmann::json& j, const char* key) {
        return j.is_object() && j.contains(key) ? j[key] : nlohmann::json();
    };
    auto list = [](const nlohmann::json& j) { return j.is_array() ? j : nlohmann::json::array(); };
    BrokerView view;
    if (r[2].ok())
        view.admin_has_core = role_names(member(member(r[2].data, "client"), "roles")).count(std::string(kCoreRole)) > 0;
    for (const auto& c : list(member(r[3].data, "clients")))
        if (c.is_object() && c.contains("username") && c["username"].is_string())
            view.clients[c["username"].get<std::string>()] = role_names(member(c, "roles"));
    for (const auto& role : list(member(r[4].data, "roles")))
        if (auto read = read_role(role)) view.roles.insert(std::move(*read));
    return view;
}

bool is_device_role(std::string_view role) { return role.substr(0, kDeviceRolePrefix.size()) == kDeviceRolePrefix; }

// One command and what to do with its answer.
struct Step {
    Command command;
    std::function<void(const CommandResult&)> on_result;
};

// Runs steps in chunks, one batch at a time; stops at the first batch that got no answer.
struct StepRunner : std::enable_shared_from_this<StepRunner> {
    BrokerAdmin& admin;
    std::vector<Step> steps;
    std::size_t next = 0;
    std::function<void(base::Result<void>)> done;
    std::weak_ptr<char> alive;

    StepRunner(BrokerAdmin& a, std::vector<Step> s, std::function<void(base::Result<void>)> d,
               std::weak_ptr<char> w)
        : admin(a), steps(std::move(s)), done(std::move(d)), alive(std::move(w)) {}

    void run() {
        if (next >= steps.size()) return done({});
        const std::size_t first = next;
        const std::size_t last = std::min(steps.size(), first + kChunk);
        std::vector<Command> batch;
        for (std::size_t i = first; i < last; ++i) batch.push_back(steps[i].command);
        next = last;
        admin.execute(std::move(batch), [self = shared_from_this(), first, last](
                                            base::Result<std::vector<CommandResult>> r) {
            if (self->alive.expired()) return;
            if (!r) return self->done(tl::unexpected(r.error()));
            if (r->size() != last - first)
                return self->done(base::fail(base::Errc::io, "dynsec answered the wrong number of commands"));
            for (std::size_t i = first; i < last; ++i) self->steps[i].on_result((*r)[i - first]);
            self->run();
        });
    }
};

}  // namespace

void Registry::reconcile(ReconcileDone done) {
    auto& d = *impl_;
    if (d.reconciling) {
        d.next_waiters.push_back(std::move(done));
        return;
    }
    d.waiters.push_back(std::move(done));
    d.start_reconcile();
}

void Registry::Impl::finish_reconcile(base::Result<ReconcileReport> result) {
    auto waiting = std::move(waiters);
    waiters.clear();
    reconciling = false;
    if (!next_waiters.empty()) {
        waiters = std::move(next_waiters);
        next_waiters.clear();
        start_reconcile();
    }
    for (auto& w : waiting) w(result);
}

void Registry::Impl::start_reconcile() {
    reconciling = true;
    // Log lines sent while gafferd was away are gone: what we knew is stale.
    presence.clear();
    std::vector<Command> look = {create_role_command(kCoreRole, core_acls()),
                                 modify_role_command(kCoreRole, core_acls()),
                                 get_client_command(options.admin_username), list_clients_command(),
                                 list_roles_command()};
    admin.execute(std::move(look), guarded([this](base::Result<std::vector<CommandResult>> r) {
        if (!r) return finish_reconcile(tl::unexpected(r.error()));
        auto view = read_view(*r);
        if (!view) return finish_reconcile(tl::unexpected(view.error()));
        auto records = store.list();
        if (!records) return finish_reconcile(tl::unexpected(records.error()));

        auto report = std::make_shared<ReconcileReport>();
        auto held = std::make_shared<std::set<std::string>>();  // things this pass holds busy
        std::vector<Step> steps;
        auto problem = [report](std::string text) { report->problems.push_back(std::move(text)); };
        if (!(*r)[2].ok())
            problem("gafferd's dynsec user " + base::quoted(options.admin_username) + ": " +
                    result_error((*r)[2]).message);
        else if (!view->admin_has_core)
            steps.push_back({add_client_role_command(options.admin_username, kCoreRole),
                             [problem](const CommandResult& c) {
                                 if (!c.ok()) problem(result_error(c).message);
                             }});

        std::set<std::string> known;
        for (const auto& rec : *records) {
            const std::string thing = rec.device.thing;
            known.insert(thing);
            if (busy.count(thing)) continue;  // its own operation is settling it
            busy.insert(thing);
            held->insert(thing);
            const auto role = role_name(thing);
            const auto acls = acls_for(thing);
            // Each write makes mosquitto rewrite its whole dynsec file: a role that already
            // has the right ACLs is left alone, so a reconnect costs nothing per device.
            const auto there = view->roles.find(role);
            const bool role_there = there != view->roles.end();
            if (!role_there || there->second != acl_keys(acls))
                steps.push_back({role_there ? modify_role_command(role, acls) : create_role_command(role, acls),
                                 [report, problem, thing](const CommandResult& c) {
                                     if (c.ok()) ++report->roles;
                                     else problem(thing + ": " + result_error(c).message);
                                 }});
            auto client = view->clients.find(thing);
            const bool client_there = client != view->clients.end();
            auto mark_missing = [this, report, problem, thing](std::string why) {
                if (auto ok = store.set_credentials(thing, Credentials::missing); !ok)
                    return problem(thing + ": " + ok.error().message);
                ++report->missing;
                problem(thing + ": credentials missing (" + why + "); rotate to issue new ones");
            };
            if (rec.credentials == Credentials::pending) {
                auto pw = pending_passwords.find(thing);
                if (pw == pending_passwords.end()) {
                    mark_missing("its password was lost with an earlier gafferd");
                    continue;
                }
                if (client_there)
                    steps.push_back({delete_client_command(thing), [](const CommandResult&) {}});
                steps.push_back({create_client_command(thing, pw->second, role),
                                 [this, report, problem, thing](const CommandResult& c) {
                                     if (!c.ok()) return problem(thing + ": " + result_error(c).message);
                                     pending_passwords.erase(thing);
                                     if (auto ok = store.set_credentials(thing, Credentials::active); !ok)
                                         return problem(thing + ": " + ok.error().message);
                                     ++report->created;
                                 }});
            } else if (rec.credentials == Credentials::active) {
                if (!client_there) mark_missing("the broker has no client for it");
                else if (!client->second.count(role))
                    steps.push_back({add_client_role_command(thing, role),
                                     [problem, thing](const CommandResult& c) {
                                         if (!c.ok()) problem(thing + ": " + result_error(c).message);
                                     }});
            }
        }
        // gaffer-device-* belongs to gafferd: without a record it is left over from a device
        // removed while the broker's answer was lost.
        auto orphan = [report](const CommandResult& c) {
            if (c.ok()) ++report->orphans;
        };
        for (const auto& [username, roles] : view->clients) {
            if (known.count(username) || busy.count(username)) continue;
            bool device = false;
            for (const auto& role : roles) device = device || is_device_role(role);
            if (device) steps.push_back({delete_client_command(username), orphan});
        }
        for (const auto& [role, acls] : view->roles) {
            if (!is_device_role(role)) continue;
            auto thing = role.substr(kDeviceRolePrefix.size());
            if (known.count(thing) || busy.count(thing)) continue;
            steps.push_back({delete_role_command(role), orphan});
        }
        auto runner = std::make_shared<StepRunner>(
            admin, std::move(steps),
            [this, report, held](base::Result<void> ran) {
                for (const auto& thing : *held) busy.erase(thing);
                if (!ran) return finish_reconcile(tl::unexpected(ran.error()));
                finish_reconcile(std::move(*report));
            },
            std::weak_ptr<char>(alive));
        runner->run();
    }));
}

}  // namespace gaffer::registry
