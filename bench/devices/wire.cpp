#include "bench/devices/wire.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace gaffer::bench::devices {
namespace {

constexpr std::uint8_t kConnect = 1, kConnack = 2, kPuback = 4, kSubscribe = 8,
                       kSuback = 9;

void put_u16(std::string& out, std::uint16_t value) {
    out.push_back(static_cast<char>(value >> 8));
    out.push_back(static_cast<char>(value & 0xff));
}

void put_string(std::string& out, std::string_view text) {
    put_u16(out, static_cast<std::uint16_t>(text.size()));
    out.append(text);
}

std::uint16_t get_u16(std::string_view bytes, std::size_t at) {
    return static_cast<std::uint16_t>((static_cast<std::uint8_t>(bytes[at]) << 8) |
                                      static_cast<std::uint8_t>(bytes[at + 1]));
}

std::runtime_error system_error(const std::string& what, const char* call) {
    return std::runtime_error(what + ": " + call + ": " + std::strerror(errno));
}

}  // namespace

WireConnection::WireConnection(const std::string& uri, const Account& account)
    : what_("MQTT connection of " + account.client_id + " to " + uri) {
    const auto colon = uri.rfind(':');
    const auto host_at = uri.find("://");
    if (colon == std::string::npos || host_at == std::string::npos)
        throw std::runtime_error(what_ + ": the broker address is not tcp://host:port");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(uri_port(uri)));
    const std::string host = uri.substr(host_at + 3, colon - host_at - 3);
    if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1)
        throw std::runtime_error(what_ + ": the host is not an IPv4 address");
    fd_ = base::Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd_) throw system_error(what_, "socket");
    const int one = 1;
    ::setsockopt(fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const timeval ten_seconds{10, 0};
    ::setsockopt(fd(), SOL_SOCKET, SO_RCVTIMEO, &ten_seconds, sizeof ten_seconds);
    if (::connect(fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
        throw system_error(what_, "connect");
    std::string variable;
    put_string(variable, "MQTT");
    variable.push_back(4);  // protocol level: 3.1.1
    const bool named = !account.username.empty();
    variable.push_back(static_cast<char>(0x02 | (named ? 0xc0 : 0)));  // clean session
    put_u16(variable, 600);
    std::string payload;
    put_string(payload, account.client_id);
    if (named) {
        put_string(payload, account.username);
        put_string(payload, account.password);
    }
    queue(kConnect << 4, variable, payload);
    const auto connack = await(kConnack, "CONNACK");
    if (connack.body.size() < 2 || connack.body[1] != 0) {
        const int code = connack.body.size() < 2 ? -1 : static_cast<std::uint8_t>(connack.body[1]);
        throw std::runtime_error(what_ + ": refused (CONNACK code " + std::to_string(code) + ")");
    }
}

void WireConnection::subscribe(const std::string& filter, int qos) {
    std::string variable;
    put_u16(variable, next_packet_id());
    std::string payload;
    put_string(payload, filter);
    payload.push_back(static_cast<char>(qos));
    queue(static_cast<std::uint8_t>(kSubscribe << 4 | 0x2), variable, payload);
    const auto suback = await(kSuback, "SUBACK");
    if (suback.body.size() < 3 || static_cast<std::uint8_t>(suback.body[2]) == 0x80)
        throw std::runtime_error(what_ + ": subscription to " + filter + " refused");
}

void WireConnection::go_non_blocking() {
    ::fcntl(fd(), F_SETFL, ::fcntl(fd(), F_GETFL) | O_NONBLOCK);
    blocking_ = false;
}

void WireConnection::publish(std::string_view topic, std::string_view payload, int qos) {
    std::string variable;
    variable.reserve(topic.size() + 4);
    put_string(variable, topic);
    if (qos > 0) put_u16(variable, next_packet_id());
    queue(static_cast<std::uint8_t>(kWirePublish << 4 | qos << 1), variable, payload);
}

void WireConnection::puback(std::uint16_t packet_id) {
    std::string variable;
    put_u16(variable, packet_id);
    queue(kPuback << 4, variable);
}

void WireConnection::queue(std::uint8_t first_byte, std::string_view variable,
                           std::string_view payload) {
    out_.push_back(static_cast<char>(first_byte));
    std::size_t remaining = variable.size() + payload.size();
    do {
        auto byte = static_cast<std::uint8_t>(remaining & 0x7f);
        remaining >>= 7;
        out_.push_back(static_cast<char>(remaining ? byte | 0x80 : byte));
    } while (remaining);
    out_.append(variable);
    out_.append(payload);
    flush();
}

bool WireConnection::flush() {
    while (sent_ < out_.size()) {
        const ssize_t n = ::send(fd(), out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return false;
            throw system_error(what_, "send");
        }
        sent_ += static_cast<std::size_t>(n);
    }
    out_.clear();
    sent_ = 0;
    return true;
}

bool WireConnection::fill() {
    in_.erase(0, consumed_);
    consumed_ = 0;
    for (;;) {
        char buffer[65536];
        const ssize_t n = ::recv(fd(), buffer, sizeof buffer, 0);
        if (n > 0) in_.append(buffer, static_cast<std::size_t>(n));
        if (n == 0) return false;
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) throw system_error(what_, "recv");
            if (blocking_) throw std::runtime_error(what_ + ": no answer from the broker within 10 s");
            return true;
        }
        if (blocking_ || static_cast<std::size_t>(n) < sizeof buffer) return true;
    }
}

bool WireConnection::next_packet(WirePacket& packet) {
    std::string_view rest(in_);
    rest.remove_prefix(consumed_);
    std::size_t length = 0, at = 1;
    for (int shift = 0;; shift += 7, ++at) {
        if (at > 4) throw std::runtime_error(what_ + ": a packet's remaining length runs past 4 bytes");
        if (at >= rest.size()) return false;
        const auto byte = static_cast<std::uint8_t>(rest[at]);
        length |= static_cast<std::size_t>(byte & 0x7f) << shift;
        if (!(byte & 0x80)) break;
    }
    ++at;
    if (rest.size() < at + length) return false;
    packet.type = static_cast<std::uint8_t>(rest[0]) >> 4;
    packet.flags = static_cast<std::uint8_t>(rest[0]) & 0xf;
    packet.body = rest.substr(at, length);
    consumed_ += at + length;
    return true;
}

WirePacket WireConnection::await(std::uint8_t type, const char* what) {
    for (;;) {
        WirePacket packet;
        while (next_packet(packet))
            if (packet.type == type) return packet;
        if (!fill()) throw std::runtime_error(what_ + ": closed by the broker before " + what);
    }
}

WirePublish WireConnection::parse_publish(const WirePacket& packet) {
    WirePublish out;
    out.qos = (packet.flags >> 1) & 3;
    const std::size_t topic_bytes = packet.body.size() < 2 ? 0 : get_u16(packet.body, 0);
    if (packet.body.size() < 2 + topic_bytes + (out.qos > 0 ? 2 : 0))
        throw std::runtime_error("a PUBLISH of " + std::to_string(packet.body.size()) + " bytes is too short for its fields");
    out.topic = packet.body.substr(2, topic_bytes);
    std::size_t at = 2 + topic_bytes;
    if (out.qos > 0) {
        out.packet_id = get_u16(packet.body, at);
        at += 2;
    }
    out.payload = packet.body.substr(at);
    return out;
}

}  // namespace gaffer::bench::devices
