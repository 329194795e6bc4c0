// Registry operations: add, remove, rotate, set_grants, presence.
#include "devices/registry/detail/registry_impl.hpp"

namespace gaffer::registry {
namespace {

base::Error batch_error(std::string_view what, const base::Error& error) {
    return base::Error{error.code, std::string(what) + ": " + error.message};
}

// A batch whose results must each be success or one tolerated failure code.
base::Result<void> all_ok(const std::vector<CommandResult>& results,
                          std::optional<base::Errc> tolerated = std::nullopt) {
    for (const auto& r : results) {
        if (r.ok()) continue;
        auto error = result_error(r);
        if (tolerated && error.code == *tolerated) continue;
        return tl::unexpected(error);
    }
    return {};
}

}  // namespace

std::string_view credentials_name(Credentials c) {
    switch (c) {
        case Credentials::pending: return "pending";
        case Credentials::active: return "active";
        case Credentials::missing: return "missing";
    }
    return "pending";
}

std::optional<Credentials> parse_credentials(std::string_view name) {
    for (auto c : {Credentials::pending, Credentials::active, Credentials::missing})
        if (credentials_name(c) == name) return c;
    return std::nullopt;
}

std::vector<Acl> Registry::Impl::acls_for(const std::string& thing) const {
    auto it = grants.find(thing);
    // Grants were checked when set_grants stored them, and the name by add().
    auto acls = device_acls(thing, it == grants.end() ? Grants{} : it->second);
    return acls ? std::move(*acls) : std::vector<Acl>{};
}

void Registry::Impl::ensure_client(const std::string& thing, const std::string& password,
                                   VoidDone done) {
    // Two commands in the usual case: mosquitto rewrites its whole dynsec file after each,
    // so each one costs time proportional to the number of devices.
    const auto role = role_name(thing);
    auto acls = acls_for(thing);
    std::vector<Command> batch = {create_role_command(role, acls), create_client_command(thing, password, role)};
    admin.execute(std::move(batch), guarded([this, thing, password, role, acls = std::move(acls), done = std::move(done)](
                                                base::Result<std::vector<CommandResult>> r) mutable {
        if (!r) return done(tl::unexpected(r.error()));
        const auto& results = *r;
        // A role left by an attempt whose answer was lost may hold other ACLs: rewrite it.
        const bool role_existed = !results[0].ok() && result_error(results[0]).code == base::Errc::conflict;
        if (!results[0].ok() && !role_existed) return done(tl::unexpected(result_error(results[0])));
        auto finish = [this, role, acls, role_existed, done = std::move(done)](base::Result<void> client) mutable {
            if (!client || !role_existed) return done(client);
            admin.execute({modify_role_command(role, acls)},
                          guarded([done = std::move(done)](base::Result<std::vector<CommandResult>> r2) {
                              if (!r2) return done(tl::unexpected(r2.error()));
                              if (!(*r2)[0].ok()) return done(tl::unexpected(result_error((*r2)[0])));
                              done({});
                          }));
        };
        if (results[1].ok()) return finish({});
        if (result_error(results[1]).code != base::Errc::conflict)
            return finish(tl::unexpected(result_error(results[1])));
        // A client of this name from an attempt whose answer was lost: its password is not
        // ours to know, so replace it.
        admin.execute({delete_client_command(thing), create_client_command(thing, password, role)},
                      guarded([finish = std::move(finish)](base::Result<std::vector<CommandResult>> r2) mutable {
                          if (!r2) return finish(tl::unexpected(r2.error()));
                          if (!(*r2)[1].ok()) return finish(tl::unexpected(result_error((*r2)[1])));
                          finish({});
                      }));
    }));
}

Registry::Registry(DeviceStore& store, BrokerAdmin& admin, Options options)
    : impl_(std::make_unique<Impl>(store, admin, std::move(options))) {}

Registry::~Registry() = default;

void Registry::add(Device device, AddDone done) {
    auto& d = *impl_;
    if (auto ok = validate_thing_name(device.thing); !ok) return done(tl::unexpected(ok.error()));
    const std::string thing = device.thing;
    if (d.busy.count(thing))
        return done(base::fail(base::Errc::busy, "an operation on device " + base::quoted(thing) +
                                                     " is in progress"));
    auto count = d.store.count();
    if (!count) return done(tl::unexpected(count.error()));
    if (*count >= d.options.max_devices)
        return done(base::fail(base::Errc::busy, "the registry holds its maximum of " +
                                                     std::to_string(d.options.max_devices) +
                                                     " devices"));
    if (auto stored = d.store.insert({std::move(device), Credentials::pending}); !stored)
        return done(tl::unexpected(stored.error()));
    auto password = generate_password();
    d.pending_passwords[thing] = password;
    d.busy.insert(thing);
    d.ensure_client(thing, password, d.guarded([&d, thing, password, done = std::move(done)](
                                                   base::Result<void> r) {
        d.busy.erase(thing);
        if (!r) return done(Enrollment{password, Credentials::pending,
                                       "device " + base::quoted(thing) +
                                           " stored; broker not updated (reconcile retries): " +
                                           r.error().message});
        d.pending_passwords.erase(thing);
        if (auto marked = d.store.set_credentials(thing, Credentials::active); !marked)
            return done(Enrollment{password, Credentials::pending, marked.error().message});
        done(Enrollment{password, Credentials::active, {}});
    }));
}

base::Result<void> Registry::Impl::claim(const std::string& thing) {
    auto& d = *this;
    if (d.busy.count(thing))
        return base::fail(base::Errc::busy, "an operation on device " + base::quoted(thing) + " is in progress");
    auto record = d.store.find(thing);
    if (!record) return tl::unexpected(record.error());
    if (!*record) return base::fail(base::Errc::not_found, "no device " + base::quoted(thing));
    d.busy.insert(thing);
    return {};
}

void Registry::remove(std::string thing, VoidDone done) {
    auto& d = *impl_;
    if (auto claimed = d.claim(thing); !claimed) return done(tl::unexpected(claimed.error()));
    // deleteClient disconnects the device at once; the record goes only after the broker
    // confirmed, so a failure leaves a device that is still registered, not a hidden one.
    d.admin.execute({delete_client_command(thing), delete_role_command(role_name(thing))},
                    d.guarded([&d, thing, done = std::move(done)](
                                  base::Result<std::vector<CommandResult>> r) {
                        d.busy.erase(thing);
                        if (!r) return done(tl::unexpected(batch_error("removing " + base::quoted(thing), r.error())));
                        if (auto ok = all_ok(*r, base::Errc::not_found); !ok)
                            return done(tl::unexpected(ok.error()));
                        d.pending_passwords.erase(thing);
                        d.presence.erase(thing);
                        done(d.store.remove(thing));
                    }));
}

void Registry::rotate(std::string thing, PasswordDone done) {
    auto& d = *impl_;
    if (auto claimed = d.claim(thing); !claimed) return done(tl::unexpected(claimed.error()));
    auto password = generate_password();
    auto finish = [&d, thing, password](base::Result<void> r, PasswordDone& done) {
        d.busy.erase(thing);
        if (!r) return done(tl::unexpected(r.error()));
        d.pending_passwords.erase(thing);
        if (auto marked = d.store.set_credentials(thing, Credentials::active); !marked)
            return done(tl::unexpected(marked.error()));
        done(password);
    };
    d.admin.execute({set_password_command(thing, password)},
                    d.guarded([&d, thing, password, finish, done = std::move(done)](
                                  base::Result<std::vector<CommandResult>> r) mutable {
                        if (!r) return finish(tl::unexpected(r.error()), done);
                        if ((*r)[0].ok()) return finish({}, done);
                        if (result_error((*r)[0]).code != base::Errc::not_found)
                            return finish(tl::unexpected(result_error((*r)[0])), done);
                        d.ensure_client(thing, password,
                                        [finish, done = std::move(done)](base::Result<void> r2) mutable {
                                            finish(std::move(r2), done);
                                        });
                    }));
}

void Registry::set_grants(std::string thing, Grants grants, VoidDone done) {
    auto& d = *impl_;
    auto acls = device_acls(thing, grants);
    if (!acls) return done(tl::unexpected(acls.error()));
    if (grants.publish.empty() && grants.subscribe.empty()) {
        d.grants.erase(thing);
    } else if (!d.grants.count(thing) && d.grants.size() >= d.options.max_devices) {
        return done(base::fail(base::Errc::busy, "grants are held for at most " +
                                                     std::to_string(d.options.max_devices) +
                                                     " things"));
    } else {
        d.grants[thing] = std::move(grants);
    }
    auto record = d.store.find(thing);
    if (!record) return done(tl::unexpected(record.error()));
    if (!*record) return done({});  // add() creates the role with these grants
    const auto role = role_name(thing);
    d.admin.execute({modify_role_command(role, *acls)},
                    d.guarded([&d, role, acls = *acls, done = std::move(done)](
                                  base::Result<std::vector<CommandResult>> r) {
                        if (!r) return done(tl::unexpected(r.error()));
                        if ((*r)[0].ok()) return done({});
                        if (result_error((*r)[0]).code != base::Errc::not_found)
                            return done(tl::unexpected(result_error((*r)[0])));
                        d.admin.execute({create_role_command(role, acls)},
                                        d.guarded([done](base::Result<std::vector<CommandResult>> r2) {
                                            if (!r2) return done(tl::unexpected(r2.error()));
                                            done(all_ok(*r2));
                                        }));
                    }));
}

void Registry::on_presence(const PresenceEvent& event) {
    auto& d = *impl_;
    auto record = d.store.find(event.thing);
    if (!record || !*record) return;
    d.presence[event.thing] = Presence{event.connected, d.options.wall_ms()};
}

std::size_t Registry::connected_count() const {
    std::size_t n = 0;
    for (const auto& [thing, p] : impl_->presence) n += p.connected ? 1 : 0;
    return n;
}

std::optional<Presence> Registry::presence(std::string_view thing) const {
    auto it = impl_->presence.find(thing);
    if (it == impl_->presence.end()) return std::nullopt;
    return it->second;
}

}  // namespace gaffer::registry
