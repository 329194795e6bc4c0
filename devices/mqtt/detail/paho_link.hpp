// The Link on Paho MQTT C++ 1.2.0. Paho's callbacks reach it only through the Inbox; all
// state below is loop-thread only.
#pragma once

#include <mqtt/async_client.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "coordinator/loop/loop.hpp"
#include "devices/mqtt/detail/backoff.hpp"
#include "devices/mqtt/detail/inbox.hpp"
#include "devices/mqtt/mqtt.hpp"

namespace gaffer::mqtt::detail {

// A number as Paho's per-operation user context pointer (the Inbox reads it back).
inline void* as_context(std::uint64_t value) { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(value)); }

class PahoLink final : public Link, private EventSink {
public:
    // Throws ::mqtt::exception when Paho refuses the client; make_paho_link catches it.
    PahoLink(loop::Loop& loop, LinkOptions options);
    ~PahoLink() override;

    void set_handlers(OnMessage on_message, OnConnection on_connection) override;
    void start() override;
    base::Result<void> subscribe(const std::string& filter, int qos) override;
    base::Result<void> unsubscribe(const std::string& filter) override;
    void publish(Message message, Done done) override;
    bool connected() const override { return state_ == State::connected; }
    void stop(std::function<void()> stopped) override;

private:
    enum class State { idle, connecting, connected, waiting, stopping, stopped };

    struct Queued {  // accepted, not yet handed to Paho
        std::uint64_t id;
        ::mqtt::const_message_ptr message;
        Done done;
    };
    struct InPaho {  // handed to Paho, completion pending
        bool acknowledged;  // QoS 1/2: counts against the broker's Receive Maximum
        Done done;
    };
    using Completion = std::pair<Done, base::Result<void>>;

    void on_event(Event& event) override;
    void on_connected(const Connected& event);
    void on_connect_failed(const ConnectFailed& event);
    void on_lost(const Lost& event);
    void on_published(const Published& event);
    void on_subscribed(const Subscribed& event);
    void on_disconnected();
    void on_dropped(const Dropped& event);

    void connect_now();
    void retry_later(const std::string& why);
    void begin_disconnect();
    void finish_stop();
    void send_subscribe(const std::string& filter, int qos);
    void send_unsubscribe(const std::string& filter);
    // Hands queued publishes to Paho while the broker's window allows; failures are
    // appended to `completions` for the caller to run last (a Done may destroy the link).
    void pump(std::vector<Completion>& completions);
    // Runs completions until one of them destroys the link (`alive` expires).
    static void run(std::vector<Completion>& completions, const std::weak_ptr<int>& alive);

    loop::Loop& loop_;
    LinkOptions options_;
    std::shared_ptr<Inbox> inbox_;
    std::unique_ptr<::mqtt::async_client> client_;
    ::mqtt::connect_options connect_options_;
    loop::Timer retry_timer_;
    Backoff backoff_;
    std::shared_ptr<const OnMessage> on_message_;
    OnConnection on_connection_;
    std::function<void()> stopped_;

    State state_ = State::idle;
    std::uint64_t attempt_ = 0;
    std::map<std::string, int> subscriptions_;         // filter -> qos
    std::set<std::string> pending_unsubscribes_;       // sent after the next connect
    std::deque<Queued> queued_;
    std::unordered_map<std::uint64_t, InPaho> in_paho_;
    std::uint64_t next_publish_id_ = 0;
    std::size_t unacknowledged_ = 0;  // InPaho entries with acknowledged == true
    std::size_t window_ = 1;          // min(max_inflight, broker's Receive Maximum)
    bool notify_stopped_ = false;     // stop() found the link connected
    bool disconnecting_ = false;      // our DISCONNECT is on its way
    // Expires with the link: callbacks that may destroy it are checked against a weak copy.
    std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

}  // namespace gaffer::mqtt::detail
