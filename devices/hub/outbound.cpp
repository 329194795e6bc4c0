// What gafferd publishes: shadow answers directly, QoS 1 routed messages through the
// durable outbox; and the requests from the local API and tasks that lead to publications.
#include <nlohmann/json.hpp>

#include "devices/hub/detail/state.hpp"

namespace gaffer::hub {
namespace {

Answer error_answer(int status, std::string_view error, std::string_view message) {
    return Answer{status, nlohmann::json{{"error", error}, {"message", message}}.dump()};
}

int status_of(base::Errc code) {
    switch (code) {
    case base::Errc::invalid: return 400;
    case base::Errc::denied: return 403;
    case base::Errc::not_found: return 404;
    case base::Errc::conflict: return 409;
    case base::Errc::busy: return 429;
    case base::Errc::unavailable: return 503;
    case base::Errc::timeout: return 504;
    default: return 500;
    }
}

}  // namespace

void Hub::State::publish(std::vector<Outgoing>& out) {
    bool durable = false;
    for (auto& outgoing : out) {
        if (outgoing.durable) {
            durable = true;
            continue;
        }
        if (!ports.link.connected()) {
            count(metric::dropped);
            continue;
        }
        count(metric::published);
        ++answers_in_flight;
        ports.link.publish(std::move(outgoing.message), [this](base::Result<void> done) {
            --answers_in_flight;
            if (!done) count(metric::dropped);
            if (!waiting_shadows.empty()) schedule_drain();
        });
    }
    out.clear();
    if (durable) flush_outbox();
}

// Sends what the outbox holds, oldest first, at most options.outbox_batch at a time; each
// entry leaves the outbox when the broker acknowledged it. Runs again after each batch and
// on every (re)connect, so nothing accepted waits longer than the broker is away.
void Hub::State::flush_outbox() {
    if (stopping || outbox_flushing || !ports.link.connected() || !outbox_in_flight.empty()) return;
    auto queued = ports.storage.peek_outbox(options.outbox_batch);
    if (!queued) return log(base::LogLevel::warning, "reading the MQTT outbox: " + queued.error().message);
    // An acknowledgement may come back inside publish(): the flag keeps that from starting
    // a second pass over entries this one is still sending.
    outbox_flushing = true;
    const auto acks_before = outbox_acks;
    for (auto& entry : *queued) {
        outbox_in_flight.insert(entry.seq);
        count(metric::published);
        ports.link.publish(std::move(entry.message), [this, seq = entry.seq](base::Result<void> done) {
            outbox_in_flight.erase(seq);
            if (!done) return;  // stays queued; the next (re)connect sends it again
            ++outbox_acks;
            if (auto removed = ports.storage.remove_outbox(seq); !removed)
                log(base::LogLevel::warning, "MQTT outbox: " + removed.error().message);
            if (outbox_in_flight.empty()) flush_outbox();
        });
    }
    outbox_flushing = false;
    if (outbox_in_flight.empty() && outbox_acks != acks_before) flush_outbox();
}

Answer Hub::get_shadow(const shadow::Key& key) {
    auto reply = state_->shadows.get(key);
    return Answer{reply.code, std::move(reply.body)};
}

Answer Hub::update_shadow(const shadow::Key& key, std::string_view request_json) {
    auto& s = *state_;
    auto reply = s.shadows.update(key, request_json);
    s.count(metric::shadow_requests(reply.code == 200 ? "accepted" : "rejected"));
    std::vector<Outgoing> out;
    s.announce(reply.publications, out);
    s.publish(out);
    return Answer{reply.code, std::move(reply.body)};
}

Answer Hub::delete_shadow(const shadow::Key& key) {
    auto& s = *state_;
    auto reply = s.shadows.remove(key);
    std::vector<Outgoing> out;
    s.announce(reply.publications, out);
    s.publish(out);
    return Answer{reply.code, std::move(reply.body)};
}

Answer Hub::publish_from_task(std::string_view task, std::string_view topic, std::string payload, int qos) {
    auto& s = *state_;
    if (auto valid = routing::validate_topic(topic); !valid)
        return error_answer(400, "invalid", "topic: " + valid.error().message);
    if (qos != 0 && qos != 1) return error_answer(400, "invalid", "qos: must be 0 or 1 (got " + std::to_string(qos) + ")");
    if (payload.size() > s.options.max_message_bytes)
        return error_answer(413, "too_large", "payload: " + std::to_string(payload.size()) + " bytes; at most " +
                                                  std::to_string(s.options.max_message_bytes) +
                                                  " (devices.max_message_bytes)");
    const routing::Endpoint source{routing::Endpoint::Kind::task, std::string(task)};
    if (s.routes.match(source, topic).empty())
        return error_answer(403, "denied", "no route lets task:" + std::string(task) + " publish on " + std::string(topic));

    const bool batched = bool(s.ports.storage.begin_batch());
    std::vector<Outgoing> out;
    auto delivery = s.deliver(source, mqtt::Message{std::string(topic), std::move(payload), qos, false}, out);
    if (batched) {
        if (auto committed = s.ports.storage.commit_batch(); !committed) {
            s.ports.storage.abandon_batch();
            return error_answer(500, "io", "storing the message: " + committed.error().message);
        }
    }
    s.publish(out);
    if (delivery.routes == 0 && delivery.first_error)
        return error_answer(status_of(delivery.first_error->code), base::errc_name(delivery.first_error->code),
                            delivery.first_error->message);
    return Answer{202, nlohmann::json{{"topic", topic}, {"routes", delivery.routes}}.dump()};
}

}  // namespace gaffer::hub
