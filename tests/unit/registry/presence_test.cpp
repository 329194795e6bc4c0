#include <doctest/doctest.h>

#include "devices/registry/registry.hpp"

using namespace gaffer;
using registry::parse_presence;
using registry::PresenceEvent;

namespace {
constexpr std::string_view kN = "$SYS/broker/log/N";
std::optional<PresenceEvent> on(std::string_view thing, bool connected) {
    return PresenceEvent{std::string(thing), connected};
}
}  // namespace

// Every line below was captured from mosquitto 2.0.11 (log_dest topic), payload as published.
TEST_CASE("connect lines") {
    CHECK(parse_presence(kN, "1795908794: New client connected from 127.0.0.1:59698 as a (p2, c1, k60, u'a').") ==
          on("a", true));
    CHECK(parse_presence(kN, "1795908862: New client connected from 127.0.0.1:59317 as c (p5, c1, k60, u'c').") ==
          on("c", true));
    CHECK(parse_presence(kN, "1795908863: New client connected from 127.0.0.1:50137 as c (p5, c1, k1, u'c').") ==
          on("c", true));
    // Without a timestamp (log_timestamp false) and with a formatted one.
    CHECK(parse_presence(kN, "New client connected from 127.0.0.1:1 as pump-7 (p5, c0, k30, u'pump-7').") ==
          on("pump-7", true));
    CHECK(parse_presence(kN, "2026-01-01T10:00:00: New client connected from [::1]:5 as x:y (p5, c0, k30, u'x:y').") ==
          on("x:y", true));
}

TEST_CASE("connect lines that are not device sessions") {
    // gafferd or an operator: username differs from the client id.
    CHECK_FALSE(parse_presence(kN, "1795908781: New client connected from 127.0.0.1:34202 as adm1 (p2, c1, k60, u'admin')."));
    CHECK_FALSE(parse_presence(kN, "1795908795: New client connected from 127.0.0.1:59700 as auto-6CC424A8-F092-2DAE-ACFB-0801000A21C9 (p5, c1, k60, u'admin')."));
    // No username at all.
    CHECK_FALSE(parse_presence(kN, "1: New client connected from 127.0.0.1:1 as a (p2, c1, k60)."));
    // A client id that is not a thing name.
    CHECK_FALSE(parse_presence(kN, "1: New client connected from 127.0.0.1:1 as a/b (p2, c1, k60, u'a/b')."));
    CHECK_FALSE(parse_presence(kN, "1: New client connected from 127.0.0.1:1 as a (p2, c1, k60, u'ab')."));
    CHECK_FALSE(parse_presence(kN, "1: New bridge connected from 127.0.0.1:1 as a (p2, c1, k60, u'a')."));
}

TEST_CASE("disconnect lines") {
    CHECK(parse_presence(kN, "1795908781: Client adm1 disconnected.") == on("adm1", false));
    CHECK(parse_presence(kN, "1795908857: Client c closed its connection.") == on("c", false));
    CHECK(parse_presence(kN, "1795908864: Client c has exceeded timeout, disconnecting.") == on("c", false));
    CHECK(parse_presence(kN, "1795908798: Client a been disconnected by administrative action.") ==
          on("a", false));
    CHECK(parse_presence(kN, "1: Client a disconnected due to protocol error.") == on("a", false));
    CHECK(parse_presence(kN, "1: Client a disconnected due to malformed packet.") == on("a", false));
    CHECK(parse_presence(kN, "1: Client a disconnected: Session taken over.") == on("a", false));
    CHECK(parse_presence(kN, "1: Bad socket read/write on client a: Connection reset by peer") == on("a", false));
    CHECK(parse_presence(kN, "Client a disconnected.\n") == on("a", false));
}

TEST_CASE("lines that say nothing about presence") {
    for (std::string_view line : {
             "1795908799: Client <unknown> disconnected, not authorised.",
             "1795908799: Client a disconnected, not authorised.",
             "1795908798: New connection from 127.0.0.1:50708 on port 18831.",
             "1: Client a already connected, closing old connection.",
             "1795908781: dynsec: adm1/admin | createClient | username=a | password=*****",
             "1: Client auto-6984F40C-5D74-1A8D-D30D-2CECEF51D4F6 closed its connection. extra",
             "", "garbage", "1: ", "Client ", "Client a"}) {
        CHECK_FALSE(parse_presence(kN, line));
    }
}

TEST_CASE("only the NOTICE log topic counts") {
    const char* line = "1: Client a disconnected.";
    CHECK(parse_presence("$SYS/broker/log/N", line));
    CHECK_FALSE(parse_presence("$SYS/broker/log/I", line));
    CHECK_FALSE(parse_presence("things/a/log/N", line));
    CHECK_FALSE(parse_presence("$SYS/broker/log/M/subscribe", line));
}
