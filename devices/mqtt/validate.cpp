#include "devices/mqtt/detail/validate.hpp"

#include <cstdint>
#include <string>

#include "devices/mqtt/mqtt.hpp"

namespace gaffer::mqtt {
namespace detail {
namespace {

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF), as MQTT
// requires of every string; Paho refuses others only when the packet is built.
bool valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        auto byte = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        std::uint32_t code = 0;
        if (byte < 0x80) {
            ++i;
            continue;
        } else if ((byte & 0xE0) == 0xC0) {
            length = 2, code = byte & 0x1F;
        } else if ((byte & 0xF0) == 0xE0) {
            length = 3, code = byte & 0x0F;
        } else if ((byte & 0xF8) == 0xF0) {
            length = 4, code = byte & 0x07;
        } else {
            return false;
        }
        if (i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            code = (code << 6) | (next & 0x3F);
        }
        static constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
        if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            return false;
        i += length;
    }
    return true;
}

base::Result<void> check_string(std::string_view text, std::string_view what) {
    std::string where(what);
    if (text.empty()) return base::fail(base::Errc::invalid, where + " is empty");
    if (text.size() > kMaxTopicBytes)
        return base::fail(base::Errc::invalid, where + " is " + std::to_string(text.size()) +
                                                   " bytes; MQTT allows at most 65535");
    if (text.find('\0') != std::string_view::npos)
        return base::fail(base::Errc::invalid, where + " contains a NUL byte");
    if (!valid_utf8(text))
        return base::fail(base::Errc::invalid, where + " is not valid UTF-8");
    return {};
}

}  // namespace

base::Result<void> validate_topic_name(std::string_view topic) {
    std::string what = "mqtt publish topic " + base::quoted(topic.substr(0, 200));
    if (auto ok = check_string(topic, what); !ok) return ok;
    if (topic.find_first_of("+#") != std::string_view::npos)
        return base::fail(base::Errc::invalid,
                          what + " contains a wildcard (+ or #); a publish names one topic");
    return {};
}

base::Result<void> validate_filter(std::string_view filter) {
    std::string what = "mqtt topic filter " + base::quoted(filter.substr(0, 200));
    if (auto ok = check_string(filter, what); !ok) return ok;
    std::size_t start = 0;
    while (true) {
        std::size_t end = filter.find('/', start);
        bool last = end == std::string_view::npos;
        std::string_view level = filter.substr(start, last ? std::string_view::npos : end - start);
        if (level.find('#') != std::string_view::npos && (level != "#" || !last))
            return base::fail(base::Errc::invalid,
                              what + ": '#' must be a whole level and the last one");
        if (level.find('+') != std::string_view::npos && level != "+")
            return base::fail(base::Errc::invalid, what + ": '+' must be a whole level");
        if (last) break;
        start = end + 1;
    }
    return {};
}

base::Result<void> validate_qos(int qos, std::string_view what) {
    if (qos < 0 || qos > 2)
        return base::fail(base::Errc::invalid, std::string(what) + " is " +
                                                   std::to_string(qos) + "; it must be 0, 1 or 2");
    return {};
}

base::Result<void> validate_payload(std::string_view payload) {
    if (payload.size() > kMaxPayloadBytes)
        return base::fail(base::Errc::invalid, "mqtt publish payload is " +
                                                   std::to_string(payload.size()) +
                                                   " bytes; MQTT allows at most 256 MiB");
    return {};
}

}  // namespace detail

namespace {
base::Result<void> bad(std::string_view field, std::string problem) {
    return base::fail(base::Errc::invalid,
                      "mqtt option " + std::string(field) + ": " + std::move(problem));
}
}  // namespace

base::Result<void> validate(const LinkOptions& o) {
    constexpr std::string_view kScheme = "tcp://";
    if (o.uri.rfind(kScheme, 0) != 0 || o.uri.size() == kScheme.size() ||
        o.uri.find(':', kScheme.size()) == std::string::npos)
        return bad("uri", base::quoted(o.uri) + " is not tcp://host:port");
    if (o.client_id.empty())
        return bad("client_id", "is empty; a persistent session needs a client id");
    if (o.client_id.size() > 65535 || !detail::valid_utf8(o.client_id))
        return bad("client_id", "is not a UTF-8 string of at most 65535 bytes");
    if (o.username.size() > 65535 || !detail::valid_utf8(o.username))
        return bad("username", "is not a UTF-8 string of at most 65535 bytes");
    if (o.password.size() > 65535) return bad("password", "is longer than 65535 bytes");
    if (o.session_expiry.count() < 0 || o.session_expiry.count() > 0xFFFFFFFFLL)
        return bad("session_expiry", "must be 0..4294967295 seconds");
    if (o.keep_alive.count() < 0 || o.keep_alive.count() > 65535)
        return bad("keep_alive", "must be 0..65535 seconds");
    if (o.connect_timeout.count() <= 0) return bad("connect_timeout", "must be positive");
    if (o.reconnect_min <= base::Duration::zero())
        return bad("reconnect_min", "must be positive");
    if (o.reconnect_max < o.reconnect_min)
        return bad("reconnect_max", "must not be shorter than reconnect_min");
    if (o.max_inflight < 1 || o.max_inflight > 65535)
        return bad("max_inflight", "must be 1..65535 (MQTT packet identifiers)");
    if (o.max_subscriptions < 1) return bad("max_subscriptions", "must be at least 1");
    if (o.max_inbound_bytes < 1) return bad("max_inbound_bytes", "must be positive");
    if (o.stop_timeout.count() < 0) return bad("stop_timeout", "must not be negative");
    return {};
}

}  // namespace gaffer::mqtt
