// Paho C 1.3.12 leaves Nagle's algorithm on and offers no way to reach its socket. With
// QoS 1 both ways on one connection, Paho writes a PUBACK and then a PUBLISH as two small
// segments; Nagle holds the second until the broker ACKs the first, which the broker's
// kernel delays by ~40 ms: round trips fall to ~430 messages/s. This finds the link's socket
// among the process's descriptors (a TCP socket whose peer port is the broker's) and sets
// TCP_NODELAY on it. Loop thread, after each connect.
#pragma once

#include <string>

namespace gaffer::mqtt::detail {

// The port of a "tcp://host:port" URI, or 0.
int uri_port(const std::string& uri);

// Sets TCP_NODELAY on every TCP socket of this process whose peer port is `port` (another
// connection to that port only gains lower latency). Returns how many were set.
int disable_nagle_towards(int port);

}  // namespace gaffer::mqtt::detail
