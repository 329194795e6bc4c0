// Messages from the broker, handled a burst at a time in one storage batch.
#include <nlohmann/json.hpp>

#include "devices/hub/detail/state.hpp"

namespace gaffer::hub {
namespace {

std::string_view op_name(shadow::Operation op) {
    switch (op) {
    case shadow::Operation::get: return "get";
    case shadow::Operation::update: return "update";
    case shadow::Operation::remove: return "delete";
    }
    return "get";
}

// The answer to a shadow request whose batch could not be committed: AWS's 500.
Outgoing internal_failure(const shadow::Request& request, std::string_view payload, std::int64_t now) {
    nlohmann::json error = {{"code", 500}, {"message", "Internal service failure"}, {"timestamp", now}};
    auto parsed = nlohmann::json::parse(payload, nullptr, false);
    if (parsed.is_object()) {
        auto token = parsed.find("clientToken");
        if (token != parsed.end() && token->is_string() && token->get_ref<const std::string&>().size() <= 64)
            error["clientToken"] = *token;
    }
    return Outgoing{mqtt::Message{shadow::topic_prefix(request.key) + "/" + std::string(op_name(request.op)) +
                                      "/rejected",
                                  error.dump(), 1, false},
                    false};
}

// Whether the device should send a message again: the failure is of the moment (a full
// queue, the store), not of the message or the route.
bool worth_retrying(const base::Error& error) {
    return error.code == base::Errc::busy || error.code == base::Errc::unavailable || error.code == base::Errc::io;
}

}  // namespace

// A shadow request publishes at most three answers: accepted or rejected, delta, documents.
constexpr std::size_t kAnswersPerShadowRequest = 3;

void Hub::State::refuse_waiting(const std::string& why) {
    for (auto& in : pending)
        if (in.verdict) in.verdict(false, why);
    pending.clear();
    if (!waiting_shadows.empty()) count(metric::refused("unavailable"), waiting_shadows.size());
    waiting_shadows.clear();
    waiting_shadow_bytes = 0;
}

// Answers go out only after their batch commits, and one the link refuses (Errc::busy, at
// its max_inflight) or cannot send (not connected) would be lost with the update saved. So
// shadow requests join a batch only while their answers fit under max_answers_in_flight,
// and only while connected; each completed answer and each reconnect resumes them. Other
// messages never wait behind them: the ingest plugin holds the whole broker until its
// verdict, and the room waited for comes back only through that broker.
void Hub::State::drain() {
    drain_scheduled = false;
    if (stopping) return refuse_waiting("gafferd is stopping");
    std::vector<Inbound> burst;
    burst.swap(pending);
    std::size_t planned = answers_in_flight;
    while (!waiting_shadows.empty() && ports.link.connected() &&
           (planned == 0 || planned + kAnswersPerShadowRequest <= options.max_answers_in_flight)) {
        planned += kAnswersPerShadowRequest;
        waiting_shadow_bytes -= waiting_shadows.front().message.payload.size();
        burst.push_back(std::move(waiting_shadows.front()));
        waiting_shadows.pop_front();
    }
    if (burst.empty()) return;

    const auto begun = ports.storage.begin_batch();
    if (!begun) log(base::LogLevel::warning, "device messages: no storage batch, each write commits alone: " + begun.error().message);
    std::vector<Outgoing> out;
    std::vector<std::pair<Verdict, std::string>> verdicts;  // answered once the batch commits
    static const routing::Endpoint from_device{routing::Endpoint::Kind::device, ""};
    for (auto& in : burst) {
        if (in.shadow) {
            auto reply = shadows.handle(*in.shadow, in.message.payload);
            count(metric::shadow_requests(reply.code == 200 ? "accepted" : "rejected"));
            announce(reply.publications, out);
            continue;
        }
        if (in.message.payload.size() > options.max_message_bytes) {
            count(metric::refused("too_large"));
            log_refusal("refused a " + std::to_string(in.message.payload.size()) + "-byte message on " +
                              in.message.topic + ": over devices.max_message_bytes");
            if (in.verdict) verdicts.emplace_back(std::move(in.verdict), std::string());
            continue;
        }
        const auto delivery = deliver(from_device, in.message, out);
        if (delivery.routes == 0) count(metric::unrouted);
        if (!in.verdict) continue;
        std::string refusal;
        if (delivery.first_error && worth_retrying(*delivery.first_error)) refusal = delivery.first_error->message;
        verdicts.emplace_back(std::move(in.verdict), std::move(refusal));
    }
    if (begun) {
        if (auto committed = ports.storage.commit_batch(); !committed) {
            log(base::LogLevel::error, "device messages: the batch did not commit, answering 500: " + committed.error().message);
            ports.storage.abandon_batch();
            out.clear();
            const auto now = ports.wall_clock.epoch_seconds();
            for (const auto& in : burst)
                if (in.shadow) out.push_back(internal_failure(*in.shadow, in.message.payload, now));
            for (auto& [verdict, refusal] : verdicts) refusal = "the store failed: " + committed.error().message;
        }
    }
    for (auto& [verdict, refusal] : verdicts) {
        const bool accepted = refusal.empty();
        count(metric::ingested(accepted ? "accepted" : "refused"));
        verdict(accepted, std::move(refusal));
    }
    publish(out);
}

}  // namespace gaffer::hub
