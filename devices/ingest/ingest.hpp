// gaffer::ingest — durable acceptance of QoS 1 device messages bound for tasks.
//
// mosquitto acknowledges a QoS 1 PUBLISH (PUBACK) as soon as it has the message; from then
// on the device forgets it, and a crash of the broker or of gafferd before gafferd commits
// the invocation would lose it. mosquitto 2.0 runs a plugin's MOSQ_EVT_MESSAGE callback on
// its one thread before it sends the PUBACK, so the plugin `gaffer-mosquitto-ingest.so`
// (mosquitto_plugin.cpp) closes the gap:
//
//   device --PUBLISH qos 1--> mosquitto --plugin: message frame--> gafferd
//                                        <--verdict frame (after the SQLite commit)--
//          <--PUBACK (accepted) or the connection closed (refused: the device sends again)--
//
// Only messages that need it pay: QoS 1 or 2, from a device (MQTT client id = thing name)
// whose routes send that topic to a task. gafferd tells the plugin which (routes frames).
// An accepted message carries the user property mqtt::kIngestedProperty on to subscribers, so
// gafferd skips the copy its "#" subscription receives. While gafferd is unreachable or
// slower than the plugin's timeout, such messages are refused: the device keeps them.
//
// The channel: gafferd connects to the plugin's Unix stream socket. Frames, both ways:
//   u32 body_length (little endian), then the body: u8 type, then the fields;
//   a string is u32 length + bytes, integers are little endian.
//   routes  (1, gafferd -> plugin): u32 n, then n × (thing, filter). Replaces the set.
//   message (2, plugin -> gafferd): u64 seq, client_id, topic, u8 qos, u8 retain, payload.
//   verdict (3, gafferd -> plugin): u64 seq, u8 accepted, reason.
// The codec is pure and reports malformed input as values, never by throwing (the plugin
// runs inside the broker; it catches the one exception left, bad_alloc).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "coordinator/base/base.hpp"
#include "devices/mqtt/mqtt.hpp"

namespace gaffer::loop {
class Loop;
}
namespace gaffer::routing {
class RouteTable;
}

namespace gaffer::ingest {

inline constexpr std::uint32_t kMaxFrame = 16u << 20;

// A device route to a task: messages from `thing` on topics matching `filter`.
struct RouteFilter {
    std::string thing;
    std::string filter;
    bool operator==(const RouteFilter&) const = default;
};

struct Routes {
    std::vector<RouteFilter> filters;
};

struct Message {
    std::uint64_t seq = 0;
    std::string client_id;
    std::string topic;
    std::uint8_t qos = 1;
    bool retain = false;
    std::string payload;
};

struct Verdict {
    std::uint64_t seq = 0;
    bool accepted = false;
    std::string reason;  // why it was refused; empty when accepted
};

using Frame = std::variant<Routes, Message, Verdict>;

// Appends the encoded frame to `out`.
void encode(const Frame& frame, std::string& out);

// Incremental decoder: feed bytes as they arrive, take whole frames out.
class Decoder {
public:
    // Appends bytes; false (and broken for good) once a frame is oversized or malformed.
    bool feed(std::string_view bytes);
    // The next whole frame; nullopt when none is buffered or the decoder is broken.
    std::optional<Frame> next();
    bool broken() const { return !error_.empty(); }
    const std::string& error() const { return error_; }  // what was wrong

private:
    std::string buffer_;
    std::size_t offset_ = 0;
    std::string error_;
};

// The device -> task routes of `table`, as the plugin needs them: sorted, deduplicated.
std::vector<RouteFilter> durable_routes(const routing::RouteTable& table);

// ---- gafferd's end ------------------------------------------------------------------------

// Connects to the plugin's socket and keeps connecting (every `retry`) while it cannot;
// sends the routes on every connect and on every set_routes(); hands each message frame to
// `on_message`, whose Answer sends the verdict (once; after the client is gone, a no-op).
// Loop thread only.
class Client {
public:
    using Answer = std::function<void(bool accepted, std::string reason)>;
    using OnMessage = std::function<void(Message message, Answer answer)>;
    // Where the client's state changes go (connected, lost, unreachable); the daemon logs.
    using OnLog = std::function<void(base::LogLevel, std::string_view)>;

    struct Options {
        std::string socket_path;
        base::Duration retry = std::chrono::seconds(1);
    };

    Client(loop::Loop& loop, Options options, OnMessage on_message, OnLog on_log);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    void start();
    void set_routes(std::vector<RouteFilter> routes);
    bool connected() const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace gaffer::ingest
