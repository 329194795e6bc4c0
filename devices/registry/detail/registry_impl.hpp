// Registry's state, shared by registry.cpp (operations) and reconcile.cpp.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "devices/registry/registry.hpp"

namespace gaffer::registry {

struct Registry::Impl {
    Impl(DeviceStore& s, BrokerAdmin& a, Options o) : store(s), admin(a), options(std::move(o)) {}

    // Marks an existing device busy for one broker operation. Errors: busy (another
    // operation on it is running), not_found, the store's.
    base::Result<void> claim(const std::string& thing);

    DeviceStore& store;
    BrokerAdmin& admin;
    Options options;

    std::map<std::string, Grants, std::less<>> grants;
    // Passwords of records still pending, so reconcile() can retry them. Memory only.
    std::map<std::string, std::string, std::less<>> pending_passwords;
    std::set<std::string, std::less<>> busy;  // things with an operation in flight
    std::map<std::string, Presence, std::less<>> presence;

    bool reconciling = false;
    std::vector<ReconcileDone> waiters;       // answered by the running reconcile
    std::vector<ReconcileDone> next_waiters;  // arrived while it ran: one more pass

    // Callbacks hold a weak reference: after ~Registry they are dropped, never run.
    std::shared_ptr<char> alive = std::make_shared<char>();

    // Wraps a callback so that it runs only while the registry exists.
    template <class Fn>
    auto guarded(Fn fn) {
        return [weak = std::weak_ptr<char>(alive), fn = std::move(fn)](auto&&... args) mutable {
            if (weak.expired()) return;
            fn(std::forward<decltype(args)>(args)...);
        };
    }

    std::vector<Acl> acls_for(const std::string& thing) const;
    // createRole (or rewrite it) and createClient; a stale client of the same name is
    // deleted and created again with `password`.
    void ensure_client(const std::string& thing, const std::string& password, VoidDone done);

    void start_reconcile();
    void finish_reconcile(base::Result<ReconcileReport> result);
};

}  // namespace gaffer::registry
