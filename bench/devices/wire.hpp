// MQTT 3.1.1 spoken directly over a TCP socket, for load generators that must cost the
// machine less than what they measure: no library threads, no per-message hand-offs. A
// WireConnection is set up blocking (CONNECT, SUBSCRIBE, each answer awaited) and then
// driven non-blocking from the caller's own epoll loop. Only what the generators use is
// here: clean sessions, QoS 0 and 1, no retained messages, no keep-alive pings (the
// connection asks for a 10-minute keep-alive).
//
// Errors throw std::runtime_error: a benchmark stops at the first problem, with the reason.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bench/devices/client.hpp"
#include "coordinator/base/base.hpp"

namespace gaffer::bench::devices {

inline constexpr std::uint8_t kWirePublish = 3;  // the PUBLISH packet type

struct WirePacket {
    std::uint8_t type = 0;   // the fixed header's high nibble: 3 PUBLISH, 4 PUBACK, ...
    std::uint8_t flags = 0;  // its low nibble
    std::string_view body;   // after the remaining length; valid until the next read
};

struct WirePublish {
    std::string_view topic;
    std::string_view payload;
    int qos = 0;
    std::uint16_t packet_id = 0;  // 0 for QoS 0
};

class WireConnection {
public:
    // Connects to "tcp://host:port" and waits for CONNACK (each read of the set-up waits at
    // most 10 s); throws when refused.
    WireConnection(const std::string& uri, const Account& account);

    // Waits for SUBACK (10 s); throws when the broker refuses the filter (0x80).
    void subscribe(const std::string& filter, int qos);

    // After this the socket never blocks: writes queue what the kernel does not take, and
    // flush() sends it when the caller's poll says the socket is writable.
    void go_non_blocking();
    int fd() const { return fd_.get(); }

    // Queues a PUBLISH (QoS 1 takes the next packet id) and tries to write it.
    void publish(std::string_view topic, std::string_view payload, int qos);
    void puback(std::uint16_t packet_id);
    bool flush();  // true when nothing is left queued
    bool wants_write() const { return sent_ < out_.size(); }

    // Reads what the socket has and calls on_packet(const WirePacket&) for each whole packet.
    // Returns false at end of stream. Only after go_non_blocking().
    template <typename OnPacket>
    bool read(OnPacket&& on_packet) {
        WirePacket packet;
        while (next_packet(packet)) on_packet(packet);  // what came with the set-up's answers
        if (!fill()) return false;
        while (next_packet(packet)) on_packet(packet);
        return true;
    }

    // Throws on a PUBLISH too short for its own fields.
    static WirePublish parse_publish(const WirePacket& packet);

private:
    bool fill();
    bool next_packet(WirePacket& packet);
    WirePacket await(std::uint8_t type, const char* what);
    void queue(std::uint8_t first_byte, std::string_view variable, std::string_view payload = {});
    std::uint16_t next_packet_id() { return ++next_id_ ? next_id_ : ++next_id_; }  // never 0

    base::Fd fd_;
    bool blocking_ = true;
    std::string what_;
    std::string in_;
    std::size_t consumed_ = 0;  // bytes of in_ already handed out as packets
    std::string out_;
    std::size_t sent_ = 0;
    std::uint16_t next_id_ = 0;
};

}  // namespace gaffer::bench::devices
