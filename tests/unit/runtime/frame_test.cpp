#include <doctest/doctest.h>

#include "tasks/runtime/runtime.hpp"

using namespace gaffer::runtime;

namespace {

std::string encoded(const Frame& f) {
    std::string out;
    encode(f, out);
    return out;
}

std::string le32(std::uint32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
}

}  // namespace

TEST_CASE("a frame has the documented layout") {
    std::string bytes = encoded({FrameType::invoke, R"({"id":"a"})", "EV"});
    // body = type(1) + header_length(4) + header(10) + payload(2)
    CHECK(bytes.size() == 4 + 17);
    CHECK(bytes.substr(0, 4) == le32(17));
    CHECK(bytes[4] == 2);
    CHECK(bytes.substr(5, 4) == le32(10));
    CHECK(bytes.substr(9, 10) == R"({"id":"a"})");
    CHECK(bytes.substr(19) == "EV");
}

TEST_CASE("frames round trip, several in one feed") {
    std::string stream;
    encode({FrameType::launch, R"({"task":"t"})", ""}, stream);
    encode({FrameType::result, R"({"id":"1","status":"ok"})", std::string("bin\0ary", 7)}, stream);
    encode({FrameType::ready, "", ""}, stream);
    Decoder d;
    REQUIRE(d.feed(stream));
    auto a = d.next();
    REQUIRE(a);
    CHECK(a->type == FrameType::launch);
    CHECK(a->header == R"({"task":"t"})");
    CHECK(a->payload.empty());
    auto b = d.next();
    REQUIRE(b);
    CHECK(b->type == FrameType::result);
    CHECK(b->payload == std::string("bin\0ary", 7));
    auto c = d.next();
    REQUIRE(c);
    CHECK(c->type == FrameType::ready);
    CHECK(c->header.empty());
    CHECK_FALSE(d.next());
}

TEST_CASE("a frame fed one byte at a time appears only when complete") {
    std::string payload(5000, 'x');
    payload[1234] = 'y';
    std::string stream = encoded({FrameType::invoke, R"({"id":"42"})", payload});
    stream += encoded({FrameType::shutdown, R"({"grace_ms":10})", ""});
    Decoder d;
    int frames = 0;
    for (std::size_t i = 0; i < stream.size(); ++i) {
        REQUIRE(d.feed(std::string_view(&stream[i], 1)));
        while (auto f = d.next()) {
            ++frames;
            if (frames == 1) {
                CHECK(i == stream.size() - encoded({FrameType::shutdown, R"({"grace_ms":10})", ""}).size() - 1);
                CHECK(f->payload == payload);
                CHECK(f->header == R"({"id":"42"})");
            } else {
                CHECK(i == stream.size() - 1);
                CHECK(f->type == FrameType::shutdown);
            }
        }
    }
    CHECK(frames == 2);
}

TEST_CASE("an oversized frame is rejected from its length alone, and the decoder stays broken") {
    Decoder d;
    auto r = d.feed(le32(kMaxFrame + 1));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == gaffer::base::Errc::invalid);
    CHECK(r.error().message.find("exceeds the limit") != std::string::npos);
    CHECK_FALSE(d.feed(encoded({FrameType::ready, "{}", ""})));
    CHECK_FALSE(d.next());
}

TEST_CASE("a frame of exactly kMaxFrame is accepted") {
    Frame big{FrameType::result, "{}", std::string(kMaxFrame - 5 - 2, 'z')};
    Decoder d;
    REQUIRE(d.feed(encoded(big)));
    auto f = d.next();
    REQUIRE(f);
    CHECK(f->payload.size() == big.payload.size());
}

TEST_CASE("malformed frames are rejected") {
    SUBCASE("body shorter than type and header length") {
        Decoder d;
        auto r = d.feed(le32(3) + "abc");
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("shorter") != std::string::npos);
    }
    SUBCASE("unknown type") {
        Decoder d;
        auto r = d.feed(le32(5) + std::string(1, '\x63') + le32(0));
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("unknown frame type 99") != std::string::npos);
    }
    SUBCASE("header longer than the body") {
        Decoder d;
        auto r = d.feed(le32(6) + std::string(1, '\x01') + le32(2) + "x");
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("overruns") != std::string::npos);
    }
}

TEST_CASE("the decoder keeps working across many frames (buffer compaction)") {
    Decoder d;
    std::string chunk;
    for (int i = 0; i < 200; ++i) encode({FrameType::log, "{}", std::string(1000, char('a' + i % 26))}, chunk);
    int seen = 0;
    for (int round = 0; round < 5; ++round) {
        REQUIRE(d.feed(chunk.substr(0, chunk.size() / 2 + 3)));
        REQUIRE(d.feed(chunk.substr(chunk.size() / 2 + 3)));
        while (auto f = d.next()) {
            CHECK(f->payload == std::string(1000, char('a' + seen % 200 % 26)));
            ++seen;
        }
    }
    CHECK(seen == 1000);
}
