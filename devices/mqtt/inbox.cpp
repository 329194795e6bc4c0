#include "devices/mqtt/detail/inbox.hpp"

#include <mqtt/exception.h>
#include <mqtt/properties.h>
#include <mqtt/token.h>

#include <cstdint>
#include <utility>

#include "coordinator/loop/loop.hpp"

namespace gaffer::mqtt::detail {

std::string describe_paho_error(int return_code, int reason_code) {
    std::string text;
    if (return_code != 0) {
        text = "Paho error " + std::to_string(return_code);
        std::string what = ::mqtt::exception::error_str(return_code);
        if (!what.empty()) text += " (" + what + ")";
    }
    if (reason_code >= 0x80) {
        if (!text.empty()) text += "; ";
        std::string what = ::mqtt::exception::reason_code_str(reason_code);
        text += "broker: " + (what.empty() ? "reason code " + std::to_string(reason_code) : what);
    }
    return text.empty() ? "failed without a reason" : text;
}

Inbox::Inbox(loop::Loop& loop, std::size_t max_inbound_bytes)
    : loop_(&loop), max_inbound_bytes_(max_inbound_bytes) {}

void Inbox::attach(EventSink* sink) { sink_ = sink; }

void Inbox::detach() {
    sink_ = nullptr;
    std::lock_guard lock(mutex_);
    loop_ = nullptr;
    events_.clear();
}

void Inbox::push(Event event) noexcept {
    try {
        std::lock_guard lock(mutex_);
        push_locked(std::move(event));
    } catch (...) {
        // Only allocation can fail here; an exception must not unwind into Paho's C code.
    }
}

void Inbox::push_message(Message message) noexcept {
    try {
        std::lock_guard lock(mutex_);
        if (!loop_) return;
        std::size_t bytes = message.topic.size() + message.payload.size();
        // The loop is far behind: Paho's callback cannot wait for it (Paho holds its own
        // lock while calling us, and the loop may need that lock to publish), so drop, count
        // and let the loop report it.
        if (inbound_bytes_ > 0 && inbound_bytes_ + bytes > max_inbound_bytes_) {
            if (dropped_++ == 0) push_locked(Dropped{0});
            return;
        }
        inbound_bytes_ += bytes;
        push_locked(Arrived{std::move(message)});
    } catch (...) {
    }
}

void Inbox::push_locked(Event&& event) {
    if (!loop_) return;
    bool wake = events_.empty();
    events_.push_back(std::move(event));
    // One post per batch: a post already queued will drain this event too.
    if (wake) loop_->post([weak = weak_from_this()] {
        if (auto inbox = weak.lock()) inbox->drain();
    });
}

void Inbox::drain() {
    std::vector<Event> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(events_);
        inbound_bytes_ = 0;
        for (auto& event : batch)
            if (auto* dropped = std::get_if<Dropped>(&event)) dropped->count = std::exchange(dropped_, 0);
    }
    // A sink may detach (destroy the link) from inside on_event: check before each one.
    for (auto& event : batch) {
        if (!sink_) return;
        sink_->on_event(event);
    }
}

void Inbox::Listener::on_success(const ::mqtt::token& token) { report(token, true); }
void Inbox::Listener::on_failure(const ::mqtt::token& token) { report(token, false); }

void Inbox::Listener::report(const ::mqtt::token& token, bool success) noexcept {
    try {
        auto context = reinterpret_cast<std::uintptr_t>(token.get_user_context());
        int reason = static_cast<int>(token.get_reason_code());
        // An MQTT 5 acknowledgement can carry a failure reason code (>= 0x80) on success.
        if (reason >= 0x80) success = false;
        switch (kind) {
            case Kind::connect: {
                if (!success) {
                    inbox.push(ConnectFailed{context, describe_paho_error(token.get_return_code(), reason)});
                    break;
                }
                auto response = token.get_connect_response();
                std::uint32_t receive_maximum = 65535;
                const auto& props = response.get_properties();
                if (props.contains(::mqtt::property::RECEIVE_MAXIMUM))
                    receive_maximum = ::mqtt::get<uint16_t>(props, ::mqtt::property::RECEIVE_MAXIMUM);
                inbox.push(Connected{context, response.is_session_present(), receive_maximum});
                break;
            }
            case Kind::publish:
                inbox.push(Published{context, success ? 0 : token.get_return_code(), reason});
                break;
            case Kind::subscribe:
            case Kind::unsubscribe: {
                auto topics = token.get_topics();
                std::string filter = topics && topics->size() > 0 ? (*topics)[0] : std::string();
                inbox.push(Subscribed{std::move(filter), kind == Kind::subscribe, success,
                                      success ? std::string() : describe_paho_error(token.get_return_code(), reason)});
                break;
            }
            case Kind::disconnect:
                inbox.push(Disconnected{});
                break;
        }
    } catch (...) {
        // get_connect_response() throws when Paho has no response to give. Report the
        // attempt as failed rather than leaving the link waiting for it.
        if (kind == Kind::connect)
            inbox.push(ConnectFailed{reinterpret_cast<std::uintptr_t>(token.get_user_context()),
                                     "Paho gave no CONNACK details"});
    }
}

}  // namespace gaffer::mqtt::detail
