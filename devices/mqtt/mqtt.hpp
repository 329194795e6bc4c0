// gaffer::mqtt — gafferd's MQTT connection: the Link port (connect, publish, subscribe,
// message and connection events) and its implementation on Eclipse Paho MQTT C++ (MQTT 5).
//
// Threading: a Link belongs to the loop thread. Every call and every callback (handlers,
// Done, stopped) happens on the loop thread; Paho's own threads only post into the loop.
// Callbacks never run after the Link is destroyed, and a callback may destroy the Link.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "coordinator/base/base.hpp"

namespace gaffer::loop {
class Loop;
}

namespace gaffer::mqtt {

// The MQTT 5 user property the broker's ingest plugin puts on a message it has handed to
// gafferd already (gaffer::ingest); received messages carrying it have `ingested` set.
inline constexpr char kIngestedProperty[] = "gaffer-ingested";

struct Message {
    std::string topic;
    std::string payload;
    int qos = 0;
    bool retain = false;
    // Received only: the broker's ingest plugin handed gafferd this message already and
    // marked it (the user property gaffer-ingested; see gaffer::ingest).
    bool ingested = false;
};

struct LinkOptions {
    std::string uri = "tcp://127.0.0.1:1883";  // tcp://host:port
    std::string client_id = "gafferd";
    std::string username, password;  // empty username: none sent
    bool clean_start = false;
    std::chrono::seconds session_expiry{86400};  // MQTT 5 Session Expiry Interval
    std::chrono::seconds keep_alive{30};
    std::chrono::seconds connect_timeout{10};
    base::Duration reconnect_min = std::chrono::milliseconds{100};
    base::Duration reconnect_max = std::chrono::seconds{30};
    // Publishes accepted and not yet completed (QoS 1/2 awaiting the broker's
    // acknowledgement, QoS 0 awaiting the write). The link keeps at most the broker's
    // Receive Maximum of them inside Paho and queues the rest itself.
    std::size_t max_inflight = 1000;
    std::size_t max_subscriptions = 4096;  // remembered filters
    // Received messages waiting for the loop thread (topic + payload bytes). Above it a
    // message is dropped and counted, and the drop is logged as an error (one message
    // is always accepted into an empty queue, whatever its size).
    std::size_t max_inbound_bytes = std::size_t{64} << 20;
    // MQTT 5 No Local: the broker does not send gafferd its own publications back.
    bool no_local = true;
    // How long stop() lets in-flight publishes finish before disconnecting.
    std::chrono::milliseconds stop_timeout{2000};
};

// Checks options; Errc::invalid naming the field ("mqtt option max_inflight: ...").
base::Result<void> validate(const LinkOptions& options);

// What gafferd needs of an MQTT connection. Loop thread only.
class Link {
public:
    using OnMessage = std::function<void(Message)>;
    using OnConnection = std::function<void(bool connected, std::string reason)>;
    using Done = std::function<void(base::Result<void>)>;

    virtual ~Link() = default;

    // Before start(). Messages arrive in broker order; connection events say why.
    virtual void set_handlers(OnMessage on_message, OnConnection on_connection) = 0;

    // Begins connecting; retries forever with backoff (reconnect_min doubling up to
    // reconnect_max, reset after a successful connect). Once only.
    virtual void start() = 0;

    // Remembered, and (re)subscribed after every (re)connect. Errc::invalid for a bad
    // filter or qos outside 0..2; Errc::busy past max_subscriptions. A broker refusal
    // (SUBACK reason code) is logged. Subscribing a remembered filter again updates its qos.
    virtual base::Result<void> subscribe(const std::string& filter, int qos) = 0;
    // Forgets the filter and unsubscribes (now, or right after the next connect; a filter
    // from an earlier run's persistent session is unsubscribed too). Errc::invalid for a bad
    // filter; Errc::busy when max_subscriptions unsubscribes already wait for a connection.
    virtual base::Result<void> unsubscribe(const std::string& filter) = 0;

    // `done` runs once on the loop thread: ok when QoS 1/2 is acknowledged by the broker or
    // QoS 0 is written. Before publish() returns, `done` gets Errc::invalid (empty topic,
    // wildcard or NUL in it, qos outside 0..2, payload over 256 MiB), Errc::unavailable (not
    // connected: callers keep their own durable outbox) or Errc::busy (max_inflight
    // reached). Later: Errc::denied when the broker refuses it (not authorized),
    // Errc::unavailable when the link stops first, Errc::io for other failed deliveries.
    // A publish accepted while connected survives a reconnect (persistent session).
    virtual void publish(Message message, Done done) = 0;

    virtual bool connected() const = 0;

    // Lets in-flight publishes finish (up to stop_timeout), disconnects cleanly, fails what
    // is left with Errc::unavailable, then calls `stopped`. A stopped link stays stopped.
    virtual void stop(std::function<void()> stopped) = 0;
};

// The Paho implementation. Errc::invalid for bad options; Errc::io if Paho refuses to create
// its client. `loop` must outlive the link. Only in programs linked with the Paho
// implementation (gaffer_mqtt_paho: the module below, the MQTT integration tests).
base::Result<std::unique_ptr<Link>> make_paho_link(loop::Loop& loop, LinkOptions options);

// make_paho_link, from the module gaffer-mqtt-paho.so, loaded on first use. Paho brings
// OpenSSL, whose relocations alone make ~1.7 MB resident: gafferd pays that only when it
// talks to a broker. The module is looked for beside a build tree's gafferd
// (<build>/devices/mqtt/), then in GAFFER_MODULE_DIR (the package's, beside gaffer-init); one from another
// build is refused. Errors: unavailable (not found or not loadable; the message names the
// paths tried), and those of make_paho_link.
base::Result<std::unique_ptr<Link>> load_paho_link(loop::Loop& loop, LinkOptions options);

}  // namespace gaffer::mqtt
