#include <doctest/doctest.h>

#include <set>

#include "devices/registry/registry.hpp"

using namespace gaffer;
using registry::parse_device;

namespace {
std::string error_of(std::string_view json) {
    auto r = parse_device(json);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == base::Errc::invalid);
    return r.error().message;
}
bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("thing names: 1..128 bytes of [a-zA-Z0-9:_-]") {
    CHECK(registry::validate_thing_name("sensor-1"));
    CHECK(registry::validate_thing_name("a:B_9-z"));
    CHECK(registry::validate_thing_name(std::string(128, 'x')));
    CHECK_FALSE(registry::validate_thing_name(std::string(129, 'x')));
    CHECK_FALSE(registry::validate_thing_name(""));
    for (std::string_view bad : {"a/b", "a+", "a#", "a b", "a.b", "ä", "$SYS", "a%c"}) {
        auto r = registry::validate_thing_name(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == base::Errc::invalid);
    }
    auto r = registry::validate_thing_name("ab/c");
    CHECK(contains(r.error().message, "offset 2"));
}

TEST_CASE("parse_device accepts the full shape and keeps attribute types") {
    auto d = parse_device(
        R"({"thing":"pump-7","attributes":{"model":"X1","rpm":1200,"ok":true,"f":1.5},"groups":["hall","floor-2"]})");
    REQUIRE(d);
    CHECK(d->thing == "pump-7");
    CHECK(d->attributes["model"] == "X1");
    CHECK(d->attributes["rpm"] == 1200);
    CHECK(d->attributes["ok"] == true);
    CHECK(d->groups == std::vector<std::string>{"hall", "floor-2"});
    auto back = parse_device(registry::to_json(*d).dump());
    REQUIRE(back);
    CHECK(back->attributes == d->attributes);
    CHECK(back->groups == d->groups);
}

TEST_CASE("parse_device: only thing is required") {
    auto d = parse_device(R"({"thing":"t"})");
    REQUIRE(d);
    CHECK(d->attributes.is_object());
    CHECK(d->attributes.empty());
    CHECK(d->groups.empty());
}

TEST_CASE("parse_device errors name the field") {
    CHECK(contains(error_of("not json"), "not JSON"));
    CHECK(contains(error_of("[1]"), "object"));
    CHECK(contains(error_of("{}"), "\"thing\" is required"));
    CHECK(contains(error_of(R"({"thing":5})"), "\"thing\" must be a string"));
    CHECK(contains(error_of(R"({"thing":"a/b"})"), "thing name"));
    CHECK(contains(error_of(R"({"thing":"a","atributes":{}})"), "did you mean \"attributes\""));
    CHECK(contains(error_of(R"({"thing":"a","colour":1})"), "unknown key \"colour\""));
    CHECK(contains(error_of(R"({"thing":"a","attributes":[]})"), "\"attributes\" must be an object"));
    CHECK(contains(error_of(R"({"thing":"a","attributes":{"x":null}})"), "attribute \"x\""));
    CHECK(contains(error_of(R"({"thing":"a","attributes":{"x":{"y":1}}})"), "attribute \"x\""));
    CHECK(contains(error_of(R"({"thing":"a","attributes":{"x":[1]}})"), "attribute \"x\""));
    CHECK(contains(error_of(R"({"thing":"a","attributes":{"":1}})"), "attribute names"));
    CHECK(contains(error_of(R"({"thing":"a","groups":"g"})"), "\"groups\" must be an array"));
    CHECK(contains(error_of(R"({"thing":"a","groups":[1]})"), "groups[0]"));
    CHECK(contains(error_of(R"({"thing":"a","groups":["ok","b d"]})"), "groups[1]"));
    CHECK(contains(error_of(R"({"thing":"a","groups":["g","g"]})"), "repeats"));
}

TEST_CASE("parse_device limits: 50 attributes, 16 groups, 8 KiB") {
    nlohmann::json doc = {{"thing", "a"}, {"attributes", nlohmann::json::object()}};
    for (int i = 0; i < 50; ++i) doc["attributes"]["k" + std::to_string(i)] = i;
    CHECK(parse_device(doc.dump()));
    doc["attributes"]["k50"] = 50;
    CHECK(contains(error_of(doc.dump()), "at most 50"));

    nlohmann::json groups = {{"thing", "a"}, {"groups", nlohmann::json::array()}};
    for (int i = 0; i < 16; ++i) groups["groups"].push_back("g" + std::to_string(i));
    CHECK(parse_device(groups.dump()));
    groups["groups"].push_back("g16");
    CHECK(contains(error_of(groups.dump()), "at most 16"));

    nlohmann::json big = {{"thing", "a"}, {"attributes", {{"blob", std::string(8100, 'x')}}}};
    CHECK(parse_device(big.dump()));
    big["attributes"]["blob"] = std::string(8200, 'x');
    CHECK(contains(error_of(big.dump()), "8192"));
}

TEST_CASE("generate_password: 128 bits of base64url, different every time") {
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        auto pw = registry::generate_password();
        CHECK(pw.size() == 22);  // ceil(128 / 6)
        for (char c : pw) {
            bool url_safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_';
            CHECK(url_safe);
        }
        seen.insert(pw);
    }
    CHECK(seen.size() == 200);
}
