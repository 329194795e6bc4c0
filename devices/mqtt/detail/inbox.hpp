// The one way from Paho's threads into the loop: Paho callbacks turn what happened into
// Events and push them here; the loop thread drains them in batches (one Loop::post per
// batch, not per message) and hands them to the attached sink.
//
// Lifetime: shared by the link and the handlers set on its Paho client, so it outlives
// both. After detach() nothing is posted or dispatched any more, so the link can be
// destroyed while posts are pending and Paho may still call back until its client is gone.
#pragma once

#include <mqtt/iaction_listener.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "devices/mqtt/mqtt.hpp"

namespace gaffer::mqtt::detail {

struct Arrived {
    Message message;
};
struct Connected {
    std::uint64_t attempt;
    bool session_present;
    std::uint32_t receive_maximum;  // the broker's, 65535 when it sent none
};
struct ConnectFailed {
    std::uint64_t attempt;
    std::string reason;
};
struct Lost {
    std::uint64_t attempt;  // the connect attempt whose connection this was
    std::string reason;
};
struct Published {
    std::uint64_t id;
    int return_code;  // MQTTASYNC_SUCCESS or a Paho error
    int reason_code;  // MQTT 5 reason code from the broker (0 when none)
};
struct Subscribed {
    std::string filter;
    bool subscribe;  // false: an unsubscribe
    bool ok;
    std::string reason;
};
struct Disconnected {};  // our own DISCONNECT finished, or there was nothing to disconnect
struct Dropped {
    std::uint64_t count;  // inbound messages dropped since the last report
};

using Event = std::variant<Arrived, Connected, ConnectFailed, Lost, Published, Subscribed,
                           Disconnected, Dropped>;

class EventSink {
public:
    virtual ~EventSink() = default;
    virtual void on_event(Event& event) = 0;  // loop thread
};

// "Paho error -3 (Client is disconnected); broker: Not authorized".
std::string describe_paho_error(int return_code, int reason_code);

class Inbox : public std::enable_shared_from_this<Inbox> {
public:
    Inbox(loop::Loop& loop, std::size_t max_inbound_bytes);
    Inbox(const Inbox&) = delete;
    Inbox& operator=(const Inbox&) = delete;

    // Any thread; never blocks on the loop and never throws.
    void push(Event event) noexcept;
    void push_message(Message message) noexcept;  // bounded by max_inbound_bytes

    // The connect attempt in progress or connected; Lost events are tagged with it.
    void set_attempt(std::uint64_t attempt) { attempt_.store(attempt); }
    std::uint64_t attempt() const { return attempt_.load(); }

    void attach(EventSink* sink);  // loop thread
    void detach();                 // loop thread; nothing posted or dispatched after it

    // Paho's listeners for the actions the link starts; they push the matching events.
    // The user context of every action is the id or attempt number it reports.
    ::mqtt::iaction_listener& connect_listener() { return connect_listener_; }
    ::mqtt::iaction_listener& publish_listener() { return publish_listener_; }
    ::mqtt::iaction_listener& subscribe_listener() { return subscribe_listener_; }
    ::mqtt::iaction_listener& unsubscribe_listener() { return unsubscribe_listener_; }
    ::mqtt::iaction_listener& disconnect_listener() { return disconnect_listener_; }

private:
    struct Listener : ::mqtt::iaction_listener {
        enum class Kind { connect, publish, subscribe, unsubscribe, disconnect };
        Listener(Inbox& inbox, Kind kind) : inbox(inbox), kind(kind) {}
        void on_success(const ::mqtt::token& token) override;
        void on_failure(const ::mqtt::token& token) override;
        void report(const ::mqtt::token& token, bool success) noexcept;
        Inbox& inbox;
        Kind kind;
    };

    void push_locked(Event&& event);
    void drain();

    std::mutex mutex_;
    loop::Loop* loop_;  // null once detached
    std::vector<Event> events_;
    std::size_t inbound_bytes_ = 0;
    std::size_t max_inbound_bytes_;
    std::uint64_t dropped_ = 0;
    std::atomic<std::uint64_t> attempt_{0};
    EventSink* sink_ = nullptr;  // loop thread only

    Listener connect_listener_{*this, Listener::Kind::connect};
    Listener publish_listener_{*this, Listener::Kind::publish};
    Listener subscribe_listener_{*this, Listener::Kind::subscribe};
    Listener unsubscribe_listener_{*this, Listener::Kind::unsubscribe};
    Listener disconnect_listener_{*this, Listener::Kind::disconnect};
};

}  // namespace gaffer::mqtt::detail
