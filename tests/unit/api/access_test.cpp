#include <doctest/doctest.h>

#include "coordinator/api/detail/access.hpp"

using namespace gaffer;
using api::detail::AccessPolicy;
using api::detail::parse_status_groups;
using api::detail::peer_allowed;

namespace {

struct GroupsStub {
    std::vector<gid_t> groups;
    int calls = 0;
    base::Result<std::vector<gid_t>> operator()(pid_t) {
        ++calls;
        return groups;
    }
};

loop::PeerCredentials peer(uid_t uid, gid_t gid) { return {1234, uid, gid}; }

}  // namespace

TEST_CASE("root and the daemon's uid are always allowed") {
    GroupsStub stub;
    api::detail::GroupsOf groups = std::ref(stub);
    const AccessPolicy policy{1000, static_cast<gid_t>(-1)};
    CHECK(peer_allowed(peer(0, 0), policy, groups));
    CHECK(peer_allowed(peer(1000, 5), policy, groups));
    CHECK_FALSE(peer_allowed(peer(1001, 5), policy, groups));
    CHECK(stub.calls == 0);
}

TEST_CASE("socket group members are allowed by primary or supplementary group") {
    GroupsStub stub{{27, 44}};
    api::detail::GroupsOf groups = std::ref(stub);
    const AccessPolicy policy{0, 44};
    CHECK(peer_allowed(peer(1001, 44), policy, groups));
    CHECK(peer_allowed(peer(1001, 100), policy, groups));  // supplementary 44
    stub.groups = {27};
    CHECK_FALSE(peer_allowed(peer(1001, 100), policy, groups));
}

TEST_CASE("a peer whose groups cannot be read is refused; unknown peers are refused") {
    const AccessPolicy policy{0, 44};
    api::detail::GroupsOf failing = [](pid_t) -> base::Result<std::vector<gid_t>> {
        return base::fail(base::Errc::unavailable, "gone");
    };
    CHECK_FALSE(peer_allowed(peer(1001, 100), policy, failing));
    CHECK_FALSE(peer_allowed(loop::PeerCredentials{}, policy, failing));
}

TEST_CASE("the Groups: line of /proc/<pid>/status") {
    const std::string status = "Name:\tbash\nUid:\t1000\t1000\t1000\t1000\nGroups:\t4 24 27 1000 \nVmPeak:\t1 kB\n";
    auto groups = parse_status_groups(status);
    REQUIRE(groups);
    CHECK(*groups == std::vector<gid_t>{4, 24, 27, 1000});
    CHECK(parse_status_groups("Groups:\t\n")->empty());
    CHECK_FALSE(parse_status_groups("Name: x\n"));
    CHECK_FALSE(parse_status_groups("Groups:\t4 x7\n"));
}

TEST_CASE("this process's own groups read back from /proc") {
    auto groups = api::detail::proc_supplementary_groups(getpid());
    REQUIRE(groups);
    std::vector<gid_t> mine(static_cast<std::size_t>(getgroups(0, nullptr)));
    REQUIRE(getgroups(static_cast<int>(mine.size()), mine.data()) == static_cast<int>(mine.size()));
    CHECK(groups->size() == mine.size());
    CHECK(api::detail::proc_supplementary_groups(-5).error().code == base::Errc::unavailable);
}
