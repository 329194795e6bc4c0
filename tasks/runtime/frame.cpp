#include "tasks/runtime/runtime.hpp"

#include <cstdio>
#include <cstdlib>

namespace gaffer::runtime {
namespace {

constexpr std::size_t kLengthBytes = 4;
constexpr std::size_t kFixedBody = 1 + 4;  // type + header_length
// Once this much consumed data sits at the front of the buffer, move the rest down.
constexpr std::size_t kCompactAfter = 64 * 1024;

void put_u32(std::string& out, std::uint32_t v) {
    const char bytes[4] = {static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff),
                           static_cast<char>((v >> 16) & 0xff),
                           static_cast<char>((v >> 24) & 0xff)};
    out.append(bytes, 4);
}

std::uint32_t get_u32(const std::string& in, std::size_t at) {
    auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + i])); };
    return b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24);
}

bool known_type(std::uint8_t t) {
    switch (static_cast<FrameType>(t)) {
        case FrameType::launch:
        case FrameType::invoke:
        case FrameType::shutdown:
        case FrameType::service_reply:
        case FrameType::ready:
        case FrameType::result:
        case FrameType::init_error:
        case FrameType::exited:
        case FrameType::log:
        case FrameType::service_request: return true;
    }
    return false;
}

}  // namespace

void encode(const Frame& frame, std::string& out) {
    const std::size_t body = kFixedBody + frame.header.size() + frame.payload.size();
    if (body > kMaxFrame) {
        // A caller bounds payloads (6 MB) well below kMaxFrame; reaching this is a bug.
        std::fprintf(stderr, "runtime::encode: frame of %zu bytes exceeds kMaxFrame\n", body);
        std::abort();
    }
    out.reserve(out.size() + kLengthBytes + body);
    put_u32(out, static_cast<std::uint32_t>(body));
    out.push_back(static_cast<char>(frame.type));
    put_u32(out, static_cast<std::uint32_t>(frame.header.size()));
    out += frame.header;
    out += frame.payload;
}

base::Result<void> Decoder::feed(std::string_view bytes) {
    if (broken_) return base::fail(base::Errc::invalid, "control channel: decoder already failed");
    buffer_.append(bytes);
    // Validate every frame prefix that is buffered, so an oversized length is rejected as
    // soon as its 4 bytes arrive rather than after kMaxFrame bytes were buffered.
    std::size_t pos = offset_;
    while (buffer_.size() - pos >= kLengthBytes) {
        const std::uint32_t body = get_u32(buffer_, pos);
        if (body > kMaxFrame) {
            broken_ = true;
            return base::fail(base::Errc::invalid,
                              "control channel: frame of " + std::to_string(body) +
                                  " bytes exceeds the limit of " + std::to_string(kMaxFrame));
        }
        if (body < kFixedBody) {
            broken_ = true;
            return base::fail(base::Errc::invalid, "control channel: frame body of " +
                                                       std::to_string(body) +
                                                       " bytes is shorter than its fixed part");
        }
        if (buffer_.size() - pos < kLengthBytes + kFixedBody) break;
        const auto type = static_cast<std::uint8_t>(buffer_[pos + kLengthBytes]);
        if (!known_type(type)) {
            broken_ = true;
            return base::fail(base::Errc::invalid,
                              "control channel: unknown frame type " + std::to_string(type));
        }
        const std::uint32_t header = get_u32(buffer_, pos + kLengthBytes + 1);
        if (header > body - kFixedBody) {
            broken_ = true;
            return base::fail(base::Errc::invalid,
                              "control channel: header of " + std::to_string(header) +
                                  " bytes overruns a frame body of " + std::to_string(body));
        }
        if (buffer_.size() - pos < kLengthBytes + body) break;
        pos += kLengthBytes + body;
    }
    return {};
}

std::optional<Frame> Decoder::next() {
    if (broken_ || buffer_.size() - offset_ < kLengthBytes + kFixedBody) return std::nullopt;
    const std::uint32_t body = get_u32(buffer_, offset_);
    if (buffer_.size() - offset_ < kLengthBytes + body) return std::nullopt;
    const std::size_t start = offset_ + kLengthBytes;
    const std::uint32_t header = get_u32(buffer_, start + 1);
    Frame frame{static_cast<FrameType>(buffer_[start]),
                buffer_.substr(start + kFixedBody, header),
                buffer_.substr(start + kFixedBody + header, body - kFixedBody - header)};
    offset_ = start + body;
    if (offset_ == buffer_.size()) {
        buffer_.clear();
        offset_ = 0;
    } else if (offset_ >= kCompactAfter && offset_ * 2 >= buffer_.size()) {
        buffer_.erase(0, offset_);
        offset_ = 0;
    }
    return frame;
}

}  // namespace gaffer::runtime
