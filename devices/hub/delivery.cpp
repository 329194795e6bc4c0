// Where a message goes: the targets of the routes it matches.
#include <nlohmann/json.hpp>

#include "devices/hub/detail/state.hpp"

namespace gaffer::hub {
namespace {

bool is_json(std::string_view payload) {
    return nlohmann::json::accept(payload.begin(), payload.end());
}

std::string base64(std::string_view bytes) {
    static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8 |
                           static_cast<unsigned char>(bytes[i + 2]);
        for (int shift : {18, 12, 6, 0}) out += digits[(v >> shift) & 63];
    }
    if (i < bytes.size()) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += digits[(v >> 18) & 63];
        out += digits[(v >> 12) & 63];
        out += i + 1 < bytes.size() ? digits[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

}  // namespace

std::string task_event(std::string_view topic, std::string_view payload, int qos, std::string_view source) {
    const bool json = !payload.empty() && is_json(payload);
    // Built as text so that a JSON payload is embedded as it is, not parsed and re-dumped.
    std::string event = R"({"topic":)" + nlohmann::json(std::string(topic)).dump() + R"(,"payload":)";
    event += json ? std::string(payload) : nlohmann::json(base64(payload)).dump();
    event += R"(,"payload_encoding":")" + std::string(json ? "json" : "base64") + R"(","qos":)" +
             std::to_string(qos) + R"(,"source":)" + nlohmann::json(std::string(source)).dump() + "}";
    return event;
}

Hub::State::Delivery Hub::State::deliver(const routing::Endpoint& source, const mqtt::Message& message,
                                         std::vector<Outgoing>& out) {
    Delivery result;
    auto failed = [&](const base::Error& error) {
        if (!result.first_error) result.first_error = error;
        count(metric::refused(base::errc_name(error.code)));
    };
    std::vector<const routing::Route*> routes;
    matched.clear();
    this->routes.match(source, message.topic, matched);
    routes.swap(matched);  // deliver() may run again below (shadow answers)
    const std::string source_text = source.kind == routing::Endpoint::Kind::device ? "device" : routing::to_string(source);
    bool published = false;
    for (const routing::Route* route : routes) {
        switch (route->target.kind) {
        case routing::Endpoint::Kind::task: {
            auto id = ports.tasks.invoke_async(route->target.name,
                                               task_event(message.topic, message.payload, message.qos, source_text));
            if (!id) {
                failed(id.error());
                log_refusal("route " + std::to_string(route->id) + ": could not invoke " + route->target.name +
                                  ": " + id.error().message);
                continue;
            }
            break;
        }
        case routing::Endpoint::Kind::device:
            // From a device or the shadow service the message is on the broker already, and
            // the target's grants let it receive it there.
            if (source.kind != routing::Endpoint::Kind::task) break;
            if (!published) {
                if (message.qos == 0) {
                    out.push_back(Outgoing{message, false});
                } else if (auto queued = ports.storage.enqueue(message); !queued) {
                    failed(queued.error());
                    continue;
                } else {
                    out.push_back(Outgoing{message, true});
                }
                published = true;
            }
            break;
        case routing::Endpoint::Kind::shadow: {
            auto request = shadow::parse_request_topic(message.topic);
            if (!request) continue;  // routes to shadow carry shadow request topics only
            auto reply = shadows.handle(*request, message.payload);
            count(metric::shadow_requests(reply.code == 200 ? "accepted" : "rejected"));
            announce(reply.publications, out);
            break;
        }
        case routing::Endpoint::Kind::cloud: continue;  // refused by validate_route
        }
        ++result.routes;
        count(metric::routed);
    }
    return result;
}

void Hub::State::announce(std::vector<shadow::Publication>& publications, std::vector<Outgoing>& out) {
    static const routing::Endpoint from_shadow{routing::Endpoint::Kind::shadow, ""};
    for (auto& publication : publications) {
        mqtt::Message message{std::move(publication.topic), std::move(publication.payload), 1, false};
        deliver(from_shadow, message, out);
        out.push_back(Outgoing{std::move(message), false});
    }
}

}  // namespace gaffer::hub
