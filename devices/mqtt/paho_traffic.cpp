// Publishing and subscribing through Paho, and make_paho_link.
#include <mqtt/exception.h>
#include <mqtt/message.h>
#include <mqtt/subscribe_options.h>

#include <cstdint>
#include <utility>

#include "devices/mqtt/detail/paho_link.hpp"
#include "devices/mqtt/detail/validate.hpp"

namespace gaffer::mqtt {
namespace detail {
namespace {

constexpr int kMqttSuccess = 0;
constexpr int kNotAuthorized = 0x87;
// Paho C's command queue gets slower the longer it is (QoS 0 round trips: ~13000/s with 100
// queued, ~4000/s with 1000): hand it a bounded number of publishes at a time.
constexpr std::size_t kMaxInPaho = 100;

base::Error paho_error(const ::mqtt::exception& e, std::string what) {
    // -3: Paho noticed the loss before the loop did.
    auto code = e.get_return_code() == MQTTASYNC_DISCONNECTED ? base::Errc::unavailable : base::Errc::io;
    return base::Error{code, std::move(what) + ": " +
                                 describe_paho_error(e.get_return_code(), e.get_reason_code())};
}

}  // namespace

base::Result<void> PahoLink::subscribe(const std::string& filter, int qos) {
    if (auto ok = validate_filter(filter); !ok) return ok;
    if (auto ok = validate_qos(qos, "mqtt subscribe qos for " + base::quoted(filter)); !ok) return ok;
    auto found = subscriptions_.find(filter);
    if (found == subscriptions_.end() && subscriptions_.size() >= options_.max_subscriptions)
        return base::fail(base::Errc::busy, "mqtt subscribe " + base::quoted(filter) + ": already " +
                                                std::to_string(subscriptions_.size()) +
                                                " filters (max_subscriptions)");
    if (found != subscriptions_.end() && found->second == qos) return {};
    subscriptions_[filter] = qos;
    pending_unsubscribes_.erase(filter);
    if (state_ == State::connected) send_subscribe(filter, qos);
    return {};
}

base::Result<void> PahoLink::unsubscribe(const std::string& filter) {
    if (auto ok = validate_filter(filter); !ok) return ok;
    subscriptions_.erase(filter);
    if (state_ == State::connected) {
        send_unsubscribe(filter);
        return {};
    }
    if (!pending_unsubscribes_.count(filter) && pending_unsubscribes_.size() >= options_.max_subscriptions)
        return base::fail(base::Errc::busy, "mqtt unsubscribe " + base::quoted(filter) + ": " +
                                                std::to_string(pending_unsubscribes_.size()) +
                                                " unsubscribes already wait for a connection");
    pending_unsubscribes_.insert(filter);
    return {};
}

void PahoLink::send_subscribe(const std::string& filter, int qos) {
    // Retained messages only for a subscription the broker did not have: resubscribing
    // after every reconnect must not replay them.
    ::mqtt::subscribe_options subscribe_options(options_.no_local, false,
                                              ::mqtt::subscribe_options::SEND_RETAINED_ON_NEW);
    try {
        client_->subscribe(filter, qos, nullptr, inbox_->subscribe_listener(), subscribe_options);
    } catch (const ::mqtt::exception& e) {
        // Still remembered: the next connect subscribes it again.
        base::log_warning(paho_error(e, "mqtt: subscribe " + base::quoted(filter)).message);
    }
}

void PahoLink::send_unsubscribe(const std::string& filter) {
    try {
        client_->unsubscribe(filter, nullptr, inbox_->unsubscribe_listener());
    } catch (const ::mqtt::exception& e) {
        base::log_warning(paho_error(e, "mqtt: unsubscribe " + base::quoted(filter)).message);
    }
}

void PahoLink::on_subscribed(const Subscribed& event) {
    if (event.ok) return;
    // Only the broker's answer to a filter still wanted matters.
    bool wanted = event.subscribe == (subscriptions_.count(event.filter) > 0);
    if (wanted)
        base::log_error(std::string("mqtt: the broker refused to ") +
                        (event.subscribe ? "subscribe " : "unsubscribe ") +
                        base::quoted(event.filter) + ": " + event.reason);
}

void PahoLink::publish(Message message, Done done) {
    auto refuse = [&done](base::Result<void> error) {
        if (done) done(std::move(error));
    };
    if (auto ok = validate_topic_name(message.topic); !ok) return refuse(ok);
    if (auto ok = validate_qos(message.qos, "mqtt publish qos"); !ok) return refuse(ok);
    if (auto ok = validate_payload(message.payload); !ok) return refuse(ok);
    if (state_ != State::connected)
        return refuse(base::fail(base::Errc::unavailable, "mqtt publish " + base::quoted(message.topic) +
                                                              ": not connected to " + options_.uri));
    if (queued_.size() + in_paho_.size() >= options_.max_inflight)
        return refuse(base::fail(base::Errc::busy,
                                 "mqtt publish " + base::quoted(message.topic) + ": " +
                                     std::to_string(options_.max_inflight) +
                                     " publishes in flight (max_inflight)"));
    // The topic and payload move into Paho's message: no copy until Paho's C layer takes one.
    auto paho_message = ::mqtt::message::create(std::move(message.topic),
                                              ::mqtt::binary_ref(std::move(message.payload)),
                                              message.qos, message.retain);
    queued_.push_back(Queued{++next_publish_id_, std::move(paho_message), std::move(done)});
    std::vector<Completion> completions;
    pump(completions);
    run(completions, life_);
}

void PahoLink::pump(std::vector<Completion>& completions) {
    // Paho C 1.3.12 queues publishes beyond the broker's Receive Maximum itself, but then
    // sends them only about once a second (throughput falls to ~20 messages/s against
    // mosquitto's default of 20): keep the excess here and hand one on per acknowledgement.
    while (state_ == State::connected && !queued_.empty()) {
        auto& next = queued_.front();
        bool acknowledged = next.message->get_qos() > 0;
        if (in_paho_.size() >= kMaxInPaho || (acknowledged && unacknowledged_ >= window_)) break;
        Queued item = std::move(next);
        queued_.pop_front();
        try {
            client_->publish(item.message, as_context(item.id), inbox_->publish_listener());
        } catch (const ::mqtt::exception& e) {
            completions.emplace_back(std::move(item.done),
                                     tl::unexpected(paho_error(e, "mqtt publish " +
                                                                      base::quoted(item.message->get_topic()))));
            continue;
        }
        in_paho_.emplace(item.id, InPaho{acknowledged, std::move(item.done)});
        if (acknowledged) ++unacknowledged_;
    }
}

void PahoLink::on_published(const Published& event) {
    auto found = in_paho_.find(event.id);
    if (found == in_paho_.end()) return;  // failed already when the link stopped
    InPaho pending = std::move(found->second);
    in_paho_.erase(found);
    if (pending.acknowledged) --unacknowledged_;
    std::vector<Completion> completions;
    pump(completions);
    base::Result<void> result;
    if (event.return_code != kMqttSuccess || event.reason_code >= 0x80) {
        auto code = event.reason_code == kNotAuthorized ? base::Errc::denied : base::Errc::io;
        result = base::fail(code, "mqtt publish: " + describe_paho_error(event.return_code, event.reason_code));
    }
    completions.emplace(completions.begin(), std::move(pending.done), std::move(result));
    run(completions, life_);
}

}  // namespace detail

base::Result<std::unique_ptr<Link>> make_paho_link(loop::Loop& loop, LinkOptions options) {
    if (auto ok = validate(options); !ok) return tl::unexpected(ok.error());
    try {
        return std::unique_ptr<Link>(std::make_unique<detail::PahoLink>(loop, std::move(options)));
    } catch (const ::mqtt::exception& e) {
        return base::fail(base::Errc::io, "mqtt: Paho refused the client: " +
                                              detail::describe_paho_error(e.get_return_code(), 0));
    } catch (const std::exception& e) {
        return base::fail(base::Errc::io, std::string("mqtt: Paho refused the client: ") + e.what());
    }
}

}  // namespace gaffer::mqtt
