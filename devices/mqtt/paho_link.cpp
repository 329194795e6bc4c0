// The connection's life: create, connect with our own backoff, events from the Inbox,
// stop and destruction. Publishing and subscribing are in paho_traffic.cpp.
#include "devices/mqtt/detail/paho_link.hpp"

#include "devices/mqtt/detail/nodelay.hpp"

#include <mqtt/connect_options.h>
#include <mqtt/create_options.h>
#include <mqtt/disconnect_options.h>
#include <mqtt/exception.h>
#include <mqtt/properties.h>

#include <MQTTAsync.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <utility>

namespace gaffer::mqtt::detail {
namespace {

bool carries_ingested_mark(const ::mqtt::properties& props) {
    const auto n = props.count(::mqtt::property::USER_PROPERTY);
    for (std::size_t i = 0; i < n; ++i)
        if (std::get<0>(::mqtt::get<::mqtt::string_pair>(props, ::mqtt::property::USER_PROPERTY, i)) == kIngestedProperty)
            return true;
    return false;
}

std::string millis_text(base::Duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

// Paho C keeps a trace in memory by default, read by nothing unless its own debugging
// switches (MQTT_C_CLIENT_TRACE, _LEVEL) are set: every function entry and exit and every
// packet, formatted, under one process-wide lock: about a tenth of gafferd's CPU time per
// shadow update (bench/devices, 3,000 updates/s). Without those switches, errors only.
void quiet_paho_trace() {
    if (!std::getenv("MQTT_C_CLIENT_TRACE") && !std::getenv("MQTT_C_CLIENT_TRACE_LEVEL"))
        MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
}

}  // namespace

PahoLink::PahoLink(loop::Loop& loop, LinkOptions options)
    : loop_(loop),
      options_(std::move(options)),
      inbox_(std::make_shared<Inbox>(loop, options_.max_inbound_bytes)),
      retry_timer_(loop),
      backoff_(options_.reconnect_min, options_.reconnect_max) {
    quiet_paho_trace();
    // MQTT 5 must be asked for twice (here and in the connect options). Paho counts every
    // queued command against max buffered messages, connected or not: room for a full
    // window of publishes plus a resubscription of every filter.
    auto buffered = static_cast<int>(
        std::min<std::size_t>(options_.max_inflight + 2 * options_.max_subscriptions + 64, 1 << 30));
    ::mqtt::create_options create(MQTTVERSION_5, buffered);
    // No Paho persistence (it never fsyncs): callers keep their own durable outbox.
    client_ = std::make_unique<::mqtt::async_client>(options_.uri, options_.client_id, create,
                                                   static_cast<::mqtt::iclient_persistence*>(nullptr));

    // Paho threads: copy what arrived and post it, nothing else. Paho holds its own lock
    // while it calls these, and the loop thread takes that lock to publish.
    std::shared_ptr<Inbox> inbox = inbox_;
    client_->set_message_callback([inbox](::mqtt::const_message_ptr m) {
        if (!m) return;
        try {
            inbox->push_message(Message{m->get_topic(), m->get_payload_str(), m->get_qos(),
                                        m->is_retained(), carries_ingested_mark(m->get_properties())});
        } catch (...) {
        }
    });
    client_->set_connection_lost_handler([inbox](const std::string& cause) {
        try {
            inbox->push(Lost{inbox->attempt(), cause.empty() ? "connection lost" : cause});
        } catch (...) {
        }
    });
    client_->set_disconnected_handler([inbox](const ::mqtt::properties&, ::mqtt::ReasonCode code) {
        try {
            inbox->push(Lost{inbox->attempt(), "the broker disconnected us: " +
                                                   ::mqtt::exception::reason_code_str(code)});
        } catch (...) {
        }
    });

    connect_options_.set_mqtt_version(MQTTVERSION_5);
    connect_options_.set_clean_start(options_.clean_start);
    connect_options_.set_keep_alive_interval(options_.keep_alive);
    connect_options_.set_connect_timeout(options_.connect_timeout);
    connect_options_.set_max_inflight(static_cast<int>(options_.max_inflight));
    connect_options_.set_automatic_reconnect(false);  // whole seconds only: ours honours ms
    if (!options_.username.empty()) connect_options_.set_user_name(options_.username);
    if (!options_.password.empty()) connect_options_.set_password(options_.password);
    ::mqtt::properties properties;
    properties.add(::mqtt::property(::mqtt::property::SESSION_EXPIRY_INTERVAL,
                                  static_cast<int32_t>(static_cast<uint32_t>(options_.session_expiry.count()))));
    connect_options_.set_properties(properties);
    inbox_->attach(this);
}

PahoLink::~PahoLink() {
    inbox_->detach();
    // Destroying a connected Paho client races its receive thread (which may be inside a
    // callback on this client): say goodbye first and give the DISCONNECT a moment to go
    // out. A loop-thread wait, never one in a Paho callback.
    try {
        if (client_->is_connected()) {
            auto token = client_->disconnect(::mqtt::disconnect_options(0));
            if (token) token->wait_for(std::chrono::seconds(1));
        }
    } catch (...) {
    }
    client_.reset();
}

void PahoLink::set_handlers(OnMessage on_message, OnConnection on_connection) {
    on_message_ = on_message ? std::make_shared<const OnMessage>(std::move(on_message)) : nullptr;
    on_connection_ = std::move(on_connection);
}

void PahoLink::start() {
    if (state_ != State::idle) return;
    connect_now();
}

void PahoLink::connect_now() {
    state_ = State::connecting;
    inbox_->set_attempt(++attempt_);
    try {
        client_->connect(connect_options_, as_context(attempt_), inbox_->connect_listener());
    } catch (const ::mqtt::exception& e) {
        retry_later(describe_paho_error(e.get_return_code(), e.get_reason_code()));
    } catch (const std::exception& e) {
        retry_later(e.what());
    }
}

void PahoLink::retry_later(const std::string& why) {
    auto delay = backoff_.next();
    state_ = State::waiting;
    base::log_warning("mqtt: cannot connect to " + options_.uri + " as " + options_.client_id +
                      ": " + why + "; retrying in " + millis_text(delay));
    retry_timer_.start(delay, [this] {
        if (state_ == State::waiting) connect_now();
    });
}

void PahoLink::on_event(Event& event) {
    std::visit(
        [this](auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, Arrived>) {
                // A copy of the pointer: the handler may destroy the link, and with it
                // the std::function that is running.
                if (auto handler = on_message_) (*handler)(std::move(e.message));
            } else if constexpr (std::is_same_v<T, Connected>) {
                on_connected(e);
            } else if constexpr (std::is_same_v<T, ConnectFailed>) {
                on_connect_failed(e);
            } else if constexpr (std::is_same_v<T, Lost>) {
                on_lost(e);
            } else if constexpr (std::is_same_v<T, Published>) {
                on_published(e);
            } else if constexpr (std::is_same_v<T, Subscribed>) {
                on_subscribed(e);
            } else if constexpr (std::is_same_v<T, Disconnected>) {
                on_disconnected();
            } else {
                on_dropped(e);
            }
        },
        event);
}

void PahoLink::on_connected(const Connected& event) {
    // Paho C 1.3.12 reports one connect's success twice: only the first counts.
    if (event.attempt != attempt_) return;
    if (state_ == State::stopping) {
        if (!std::exchange(disconnecting_, true)) begin_disconnect();
        return;
    }
    if (state_ != State::connecting) return;
    state_ = State::connected;
    backoff_.reset();
    if (disable_nagle_towards(uri_port(options_.uri)) == 0)
        base::log_warning("mqtt: found no socket to " + options_.uri +
                          " to set TCP_NODELAY on; QoS 1 round trips will be slow");
    window_ = std::max<std::size_t>(1, std::min<std::size_t>(options_.max_inflight, event.receive_maximum));
    std::string how = event.session_present ? "session resumed" : "new session";
    base::log_info("mqtt: connected to " + options_.uri + " as " + options_.client_id + " (" +
                   how + ", broker receive maximum " + std::to_string(event.receive_maximum) + ")");
    // Paho does not restore subscriptions; the broker keeps them in a resumed session, and
    // subscribing again (retained messages only for new subscriptions) is harmless.
    for (const auto& [filter, qos] : subscriptions_) send_subscribe(filter, qos);
    for (const auto& filter : std::exchange(pending_unsubscribes_, {})) send_unsubscribe(filter);
    std::vector<Completion> completions;
    pump(completions);
    std::weak_ptr<int> alive = life_;
    if (on_connection_) {
        auto handler = on_connection_;
        handler(true, how);
        if (alive.expired()) return;
    }
    run(completions, alive);
}

void PahoLink::on_connect_failed(const ConnectFailed& event) {
    if (event.attempt != attempt_) return;
    if (state_ == State::stopping) {
        finish_stop();
        return;
    }
    if (state_ != State::connecting) return;
    retry_later(event.reason);
}

void PahoLink::on_lost(const Lost& event) {
    // Paho may report one loss twice (connection lost and the broker's DISCONNECT), and a
    // report can arrive after the next connection is up: only the current one counts.
    if (event.attempt != attempt_ || (state_ != State::connected && state_ != State::stopping))
        return;
    if (state_ == State::stopping) {
        finish_stop();
        return;
    }
    base::log_warning("mqtt: connection to " + options_.uri + " lost: " + event.reason);
    auto delay = backoff_.next();
    state_ = State::waiting;
    retry_timer_.start(delay, [this] {
        if (state_ == State::waiting) connect_now();
    });
    if (on_connection_) {
        auto handler = on_connection_;
        handler(false, event.reason);
    }
}

void PahoLink::on_dropped(const Dropped& event) {
    base::log_error("mqtt: dropped " + std::to_string(event.count) +
                    " received messages: the loop fell more than max_inbound_bytes (" +
                    std::to_string(options_.max_inbound_bytes) + ") behind");
}

void PahoLink::stop(std::function<void()> stopped) {
    stopped_ = std::move(stopped);
    if (state_ == State::connected) notify_stopped_ = true;
    switch (state_) {
        case State::connected:
            state_ = State::stopping;
            disconnecting_ = true;
            begin_disconnect();
            break;
        case State::connecting:
            state_ = State::stopping;  // the attempt's outcome finishes the stop
            break;
        case State::stopping:
            break;
        case State::idle:
        case State::waiting:
        case State::stopped:
            retry_timer_.stop();
            state_ = State::stopping;
            inbox_->push(Disconnected{});  // stopped_ runs from the loop, never inside stop()
            break;
    }
}

void PahoLink::begin_disconnect() {
    try {
        client_->disconnect(static_cast<int>(options_.stop_timeout.count()), nullptr,
                            inbox_->disconnect_listener());
    } catch (const std::exception& e) {
        base::log_warning(std::string("mqtt: disconnect from ") + options_.uri + ": " + e.what());
        inbox_->push(Disconnected{});
    }
}

void PahoLink::on_disconnected() {
    if (state_ == State::stopping) finish_stop();
}

void PahoLink::finish_stop() {
    state_ = State::stopped;
    retry_timer_.stop();
    std::vector<Completion> completions;
    auto unavailable = base::fail(base::Errc::unavailable, "mqtt: the link to " + options_.uri +
                                                               " stopped before the publish completed");
    for (auto& queued : queued_) completions.emplace_back(std::move(queued.done), unavailable);
    for (auto& [id, pending] : in_paho_) completions.emplace_back(std::move(pending.done), unavailable);
    queued_.clear();
    in_paho_.clear();
    unacknowledged_ = 0;
    auto stopped = std::move(stopped_);
    std::weak_ptr<int> alive = life_;
    if (std::exchange(notify_stopped_, false)) {
        base::log_info("mqtt: disconnected from " + options_.uri + " (stopped)");
        if (on_connection_) {
            auto handler = on_connection_;
            handler(false, "stopped");
            if (alive.expired()) return;
        }
    }
    run(completions, alive);
    if (!alive.expired() && stopped) stopped();
}

void PahoLink::run(std::vector<Completion>& completions, const std::weak_ptr<int>& alive) {
    for (auto& [done, result] : completions) {
        if (alive.expired()) return;
        if (done) done(std::move(result));
    }
}

}  // namespace gaffer::mqtt::detail
