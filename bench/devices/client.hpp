// The device-side MQTT client of the device benchmarks: Eclipse Paho C's MQTTAsync, the
// library under gafferd's own Paho C++ client, so a baseline subscriber and gafferd read
// the broker through the same code. One Client is one MQTT 3.1.1 connection (clean session,
// TCP_NODELAY) that can publish and receive.
//
// Threading: publish() and subscribe() from any one thread; the message handler runs on
// Paho's receive thread (keep it short: it paces the receive side). Errors throw
// std::runtime_error (a benchmark stops at the first setup problem, with the reason).
#pragma once

#include <MQTTAsync.h>
#include <MQTTClient.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace gaffer::bench::devices {

// A broker account: for a Gaffer device all three are its thing name but the password.
// An empty username connects anonymously (the plain baseline broker).
struct Account {
    std::string client_id;
    std::string username;
    std::string password;
};

struct PahoWaiter;  // client.cpp: one answer (CONNACK, SUBACK) waited for

class Client {
public:
    using OnMessage = std::function<void(std::string_view topic, std::string_view payload)>;

    // Connects and, unless `wait` is false, waits for CONNACK (10 s): then await_connected()
    // must be called before anything else. Paho C adds a new socket to its receive thread's
    // poll set only when the current poll (1 s) times out, so a connect takes up to a second:
    // start many clients without waiting, then wait for each. `window`: publishes handed to Paho and not yet
    // written (QoS 0) or acknowledged (QoS 1) at most; publish() blocks beyond it, which
    // keeps Paho's command queue bounded while a generator runs flat out.
    Client(const std::string& uri, const Account& account, OnMessage on_message = {},
           std::size_t window = 1000, bool wait = true);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    void await_connected();

    // Waits for SUBACK (10 s); throws when the broker refuses the filter (ACL: 0x80).
    void subscribe(const std::string& filter, int qos);

    // Hands one message to Paho; false when Paho refused it (counted in failures()).
    bool publish(const std::string& topic, std::string_view payload, int qos);

    // Waits until every publish handed to Paho has completed or failed (at most `seconds`).
    void drain(double seconds = 10);

    std::uint64_t completed() const { return completed_.load(); }
    std::uint64_t failures() const { return failures_.load(); }

private:
    static void on_publish_done(void* context, MQTTAsync_successData* data);
    static void on_publish_failed(void* context, MQTTAsync_failureData* data);
    static int on_arrived(void* context, char* topic, int topic_length, MQTTAsync_message* message);
    void finish_one(bool ok);

    MQTTAsync handle_ = nullptr;
    OnMessage on_message_;
    std::size_t window_;
    std::unique_ptr<PahoWaiter> connecting_;
    std::string what_;
    int port_ = 0;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::size_t outstanding_ = 0;
    std::atomic<std::uint64_t> completed_{0};
    std::atomic<std::uint64_t> failures_{0};
};

// The flat-out publisher of the throughput flows: Paho C's synchronous MQTTClient, which
// writes each QoS 0 message to the socket on the calling thread. Measured at about twice the
// rate of MQTTAsync's publish (whose send thread costs a hand-off per message), so the
// generator is less often what bounds a flow. One thread at a time.
class SyncPublisher {
public:
    SyncPublisher(const std::string& uri, const Account& account);  // throws on refusal
    ~SyncPublisher();
    SyncPublisher(const SyncPublisher&) = delete;
    SyncPublisher& operator=(const SyncPublisher&) = delete;

    bool publish(const std::string& topic, std::string_view payload, int qos);
    void drain(double = 0) {}  // QoS 0 messages are written when publish() returns

private:
    MQTTClient handle_ = nullptr;
};

// "tcp://host:port" -> port (0 when there is none).
int uri_port(const std::string& uri);

}  // namespace gaffer::bench::devices
