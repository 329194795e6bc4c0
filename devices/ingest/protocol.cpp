// The plugin channel's frames (see ingest.hpp). Malformed input is a value, never an
// exception: the plugin runs inside the broker.
#include <cstring>

#include "devices/ingest/ingest.hpp"

namespace gaffer::ingest {
namespace {

enum Type : std::uint8_t { kRoutes = 1, kMessage = 2, kVerdict = 3 };

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }
void put_u32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void put_string(std::string& out, std::string_view s) {
    put_u32(out, static_cast<std::uint32_t>(s.size()));
    out.append(s);
}

// Reads the fields of one frame body; any read past the end marks it bad.
class Reader {
public:
    explicit Reader(std::string_view body) : body_(body) {}
    std::uint64_t integer(int bytes) {
        if (!take(static_cast<std::size_t>(bytes))) return 0;
        std::uint64_t v = 0;
        for (int i = 0; i < bytes; ++i) v |= std::uint64_t{static_cast<unsigned char>(body_[pos_ - bytes + i])} << (8 * i);
        return v;
    }
    std::string string() {
        const auto size = static_cast<std::size_t>(integer(4));
        if (!take(size)) return {};
        return std::string(body_.substr(pos_ - size, size));
    }
    bool done() const { return ok_ && pos_ == body_.size(); }

private:
    bool take(std::size_t n) {
        if (!ok_ || body_.size() - pos_ < n) return ok_ = false;
        pos_ += n;
        return true;
    }
    std::string_view body_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

std::optional<Frame> parse(std::string_view body) {
    Reader in(body);
    const auto type = in.integer(1);
    Frame frame;
    if (type == kRoutes) {
        Routes routes;
        const auto n = in.integer(4);
        // Each entry is at least 8 bytes: a count larger than that is malformed, not a
        // reason to reserve gigabytes.
        if (n > body.size() / 8) return std::nullopt;
        routes.filters.reserve(n);
        for (std::uint64_t i = 0; i < n; ++i) {
            RouteFilter f;
            f.thing = in.string();
            f.filter = in.string();
            routes.filters.push_back(std::move(f));
        }
        frame = std::move(routes);
    } else if (type == kMessage) {
        Message m;
        m.seq = in.integer(8);
        m.client_id = in.string();
        m.topic = in.string();
        m.qos = static_cast<std::uint8_t>(in.integer(1));
        m.retain = in.integer(1) != 0;
        m.payload = in.string();
        frame = std::move(m);
    } else if (type == kVerdict) {
        Verdict v;
        v.seq = in.integer(8);
        v.accepted = in.integer(1) != 0;
        v.reason = in.string();
        frame = std::move(v);
    } else {
        return std::nullopt;
    }
    if (!in.done()) return std::nullopt;
    return frame;
}

}  // namespace

void encode(const Frame& frame, std::string& out) {
    std::string body;
    if (const auto* routes = std::get_if<Routes>(&frame)) {
        put_u8(body, kRoutes);
        put_u32(body, static_cast<std::uint32_t>(routes->filters.size()));
        for (const auto& f : routes->filters) {
            put_string(body, f.thing);
            put_string(body, f.filter);
        }
    } else if (const auto* m = std::get_if<Message>(&frame)) {
        put_u8(body, kMessage);
        put_u64(body, m->seq);
        put_string(body, m->client_id);
        put_string(body, m->topic);
        put_u8(body, m->qos);
        put_u8(body, m->retain ? 1 : 0);
        put_string(body, m->payload);
    } else if (const auto* v = std::get_if<Verdict>(&frame)) {
        put_u8(body, kVerdict);
        put_u64(body, v->seq);
        put_u8(body, v->accepted ? 1 : 0);
        put_string(body, v->reason);
    }
    put_u32(out, static_cast<std::uint32_t>(body.size()));
    out += body;
}

bool Decoder::feed(std::string_view bytes) {
    if (broken()) return false;
    buffer_.erase(0, offset_);  // what next() has consumed
    offset_ = 0;
    buffer_.append(bytes);
    return true;
}

std::optional<Frame> Decoder::next() {
    if (broken() || buffer_.size() - offset_ < 4) return std::nullopt;
    std::uint32_t length = 0;
    for (int i = 0; i < 4; ++i) length |= std::uint32_t{static_cast<unsigned char>(buffer_[offset_ + i])} << (8 * i);
    if (length == 0 || length > kMaxFrame) {
        error_ = "a frame of " + std::to_string(length) + " bytes (1.." + std::to_string(kMaxFrame) + " allowed)";
        return std::nullopt;
    }
    if (buffer_.size() - offset_ - 4 < length) return std::nullopt;
    auto frame = parse(std::string_view(buffer_).substr(offset_ + 4, length));
    if (!frame) {
        error_ = "a malformed frame (type " + std::to_string(static_cast<unsigned char>(buffer_[offset_ + 4])) + ")";
        return std::nullopt;
    }
    offset_ += 4 + length;
    if (offset_ == buffer_.size()) {
        buffer_.clear();
        offset_ = 0;
    }
    return frame;
}

}  // namespace gaffer::ingest
