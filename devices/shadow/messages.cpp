// Answer and publication texts, assembled from serialised parts.
#include "devices/shadow/detail/messages.hpp"

namespace gaffer::shadow::detail {
namespace {

// Appends "timestamp" and the clientToken, then closes the object.
void close_message(std::string& out, std::int64_t now, std::string_view token) {
    out += "\"timestamp\":";
    out += std::to_string(now);
    if (!token.empty()) {
        out += ",\"clientToken\":";
        out += token;
    }
    out += '}';
}

void append_version(std::string& out, std::int64_t version) {
    out += "\"version\":";
    out += std::to_string(version);
    out += ',';
}

}  // namespace

std::string error_message(int code, std::string_view message, std::int64_t now,
                          std::string_view token) {
    std::string out = "{\"code\":";
    out += std::to_string(code);
    out += ",\"message\":";
    out += Json(std::string(message)).dump();
    out += ',';
    close_message(out, now, token);
    return out;
}

std::string update_accepted(std::string_view state, std::string_view metadata,
                            std::int64_t version, std::int64_t now, std::string_view token) {
    std::string out;
    out.reserve(state.size() + metadata.size() + token.size() + 80);
    out += "{\"state\":";
    out += state;
    out += ",\"metadata\":";
    out += metadata;
    out += ',';
    append_version(out, version);
    close_message(out, now, token);
    return out;
}

std::string delta_message(const Json& delta, const Json& metadata, std::int64_t version,
                          std::int64_t now, std::string_view token) {
    std::string out = "{\"state\":";
    out += delta.dump();
    out += ",\"metadata\":";
    out += metadata.dump();
    out += ',';
    append_version(out, version);
    close_message(out, now, token);
    return out;
}

std::string documents_message(std::string_view previous, std::string_view current,
                              std::int64_t now, std::string_view token) {
    std::string out;
    out.reserve(previous.size() + current.size() + token.size() + 64);
    out += '{';
    if (!previous.empty()) {
        out += "\"previous\":";
        out += previous;
        out += ',';
    }
    out += "\"current\":";
    out += current;
    out += ',';
    close_message(out, now, token);
    return out;
}

std::string get_accepted(Document& doc, Json delta, std::int64_t version, std::int64_t now,
                         std::string_view token) {
    if (!delta.empty()) doc.state["delta"] = std::move(delta);
    std::string out = "{\"state\":";
    out += doc.state.dump();
    out += ",\"metadata\":";
    out += doc.metadata.dump();
    out += ',';
    append_version(out, version);
    close_message(out, now, token);
    return out;
}

std::string delete_accepted(std::int64_t version, std::int64_t now, std::string_view token) {
    std::string out = "{";
    append_version(out, version);
    close_message(out, now, token);
    return out;
}

}  // namespace gaffer::shadow::detail
