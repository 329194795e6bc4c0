#include "bench/devices/client.hpp"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace gaffer::bench::devices {

// One answer from Paho (CONNACK, SUBACK), waited for by the calling thread.
struct PahoWaiter {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    bool ok = false;
    int code = 0;
    std::string message;

    void finish(bool success, int c, const char* m) {
        std::lock_guard lock(mutex);
        done = true;
        ok = success;
        code = c;
        if (m) message = m;
        cv.notify_all();
    }
    void wait(const std::string& what) {
        std::unique_lock lock(mutex);
        if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }))
            throw std::runtime_error(what + ": no answer from the broker within 10 s");
        if (!ok)
            throw std::runtime_error(what + ": refused (code " + std::to_string(code) + ")" +
                                     (message.empty() ? "" : ": " + message));
    }
};

namespace {
using Waiter = PahoWaiter;

void succeeded(void* context, MQTTAsync_successData* data) {
    auto* waiter = static_cast<Waiter*>(context);
    // MQTT 3.1.1 SUBACK: 0x80 is a refusal (mosquitto answers it for a filter the ACL denies).
    if (data && data->alt.qos == 0x80) return waiter->finish(false, 0x80, "SUBACK 0x80");
    waiter->finish(true, 0, nullptr);
}

void failed(void* context, MQTTAsync_failureData* data) {
    static_cast<Waiter*>(context)->finish(false, data ? data->code : -1, data ? data->message : nullptr);
}

// Paho C gives no access to its socket. Nagle's algorithm with the peer's delayed ACK holds
// small messages back for up to 40 ms, which would measure the kernel instead of the broker,
// so set TCP_NODELAY on every TCP socket of this process connected to the broker's port.
void disable_nagle_towards(int port) {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc/self/fd"), ::closedir);
    if (!dir || port <= 0) return;
    const int own = ::dirfd(dir.get());
    while (dirent* entry = ::readdir(dir.get())) {
        char* end = nullptr;
        const long fd = std::strtol(entry->d_name, &end, 10);
        if (*end != '\0' || fd < 3 || fd == own) continue;
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        if (::getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &length) != 0) continue;
        if (peer.ss_family != AF_INET || ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port) != port) continue;
        int one = 1;
        ::setsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
}

}  // namespace

int uri_port(const std::string& uri) {
    const auto colon = uri.rfind(':');
    return colon == std::string::npos ? 0 : std::atoi(uri.c_str() + colon + 1);
}

Client::Client(const std::string& uri, const Account& account, OnMessage on_message, std::size_t window, bool wait)
    : on_message_(std::move(on_message)),
      window_(window),
      connecting_(std::make_unique<PahoWaiter>()),
      what_("connecting " + account.client_id + " to " + uri),
      port_(uri_port(uri)) {
    const std::string& what = what_;
    if (MQTTAsync_create(&handle_, uri.c_str(), account.client_id.c_str(), MQTTCLIENT_PERSISTENCE_NONE, nullptr) !=
        MQTTASYNC_SUCCESS)
        throw std::runtime_error(what + ": MQTTAsync_create failed");
    MQTTAsync_setCallbacks(handle_, this, nullptr, &Client::on_arrived, nullptr);
    MQTTAsync_connectOptions options = MQTTAsync_connectOptions_initializer;
    options.keepAliveInterval = 60;
    options.cleansession = 1;
    options.MQTTVersion = MQTTVERSION_3_1_1;
    if (!account.username.empty()) {
        options.username = account.username.c_str();
        options.password = account.password.c_str();
    }
    options.onSuccess = succeeded;
    options.onFailure = failed;
    options.context = connecting_.get();
    if (MQTTAsync_connect(handle_, &options) != MQTTASYNC_SUCCESS) {
        MQTTAsync_destroy(&handle_);
        throw std::runtime_error(what + ": MQTTAsync_connect refused to start");
    }
    if (wait) await_connected();
}

void Client::await_connected() {
    try {
        connecting_->wait(what_);
    } catch (...) {
        MQTTAsync_destroy(&handle_);
        throw;
    }
    disable_nagle_towards(port_);
}

Client::~Client() {
    drain(5);
    MQTTAsync_disconnectOptions options = MQTTAsync_disconnectOptions_initializer;
    options.timeout = 1000;
    MQTTAsync_disconnect(handle_, &options);
    // Paho runs the disconnect on its send thread; give it a moment before destroying.
    for (int i = 0; i < 100 && MQTTAsync_isConnected(handle_); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    MQTTAsync_destroy(&handle_);
}

void Client::subscribe(const std::string& filter, int qos) {
    Waiter waiter;
    MQTTAsync_responseOptions options = MQTTAsync_responseOptions_initializer;
    options.onSuccess = succeeded;
    options.onFailure = failed;
    options.context = &waiter;
    if (MQTTAsync_subscribe(handle_, filter.c_str(), qos, &options) != MQTTASYNC_SUCCESS)
        throw std::runtime_error("subscribing to " + filter + ": MQTTAsync_subscribe refused");
    waiter.wait("subscribing to " + filter);
}

bool Client::publish(const std::string& topic, std::string_view payload, int qos) {
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return outstanding_ < window_; });
        ++outstanding_;
    }
    MQTTAsync_responseOptions options = MQTTAsync_responseOptions_initializer;
    options.onSuccess = &Client::on_publish_done;
    options.onFailure = &Client::on_publish_failed;
    options.context = this;
    // Paho copies the payload before MQTTAsync_send returns.
    const int rc = MQTTAsync_send(handle_, topic.c_str(), static_cast<int>(payload.size()),
                                  const_cast<char*>(payload.data()), qos, 0, &options);
    if (rc != MQTTASYNC_SUCCESS) {
        finish_one(false);
        return false;
    }
    return true;
}

void Client::drain(double seconds) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return outstanding_ == 0; });
}

void Client::finish_one(bool ok) {
    (ok ? completed_ : failures_).fetch_add(1);
    std::lock_guard lock(mutex_);
    --outstanding_;
    changed_.notify_all();
}

void Client::on_publish_done(void* context, MQTTAsync_successData*) { static_cast<Client*>(context)->finish_one(true); }

void Client::on_publish_failed(void* context, MQTTAsync_failureData*) {
    static_cast<Client*>(context)->finish_one(false);
}

int Client::on_arrived(void* context, char* topic, int topic_length, MQTTAsync_message* message) {
    auto* self = static_cast<Client*>(context);
    if (self->on_message_) {
        const std::string_view t(topic, topic_length > 0 ? static_cast<std::size_t>(topic_length) : std::strlen(topic));
        self->on_message_(t, std::string_view(static_cast<const char*>(message->payload),
                                              static_cast<std::size_t>(message->payloadlen)));
    }
    MQTTAsync_freeMessage(&message);
    MQTTAsync_free(topic);
    return 1;
}

SyncPublisher::SyncPublisher(const std::string& uri, const Account& account) {
    const std::string what = "connecting " + account.client_id + " to " + uri;
    if (MQTTClient_create(&handle_, uri.c_str(), account.client_id.c_str(), MQTTCLIENT_PERSISTENCE_NONE, nullptr) !=
        MQTTCLIENT_SUCCESS)
        throw std::runtime_error(what + ": MQTTClient_create failed");
    MQTTClient_connectOptions options = MQTTClient_connectOptions_initializer;
    options.keepAliveInterval = 60;
    options.cleansession = 1;
    options.MQTTVersion = MQTTVERSION_3_1_1;
    if (!account.username.empty()) {
        options.username = account.username.c_str();
        options.password = account.password.c_str();
    }
    if (const int rc = MQTTClient_connect(handle_, &options); rc != MQTTCLIENT_SUCCESS) {
        MQTTClient_destroy(&handle_);
        throw std::runtime_error(what + ": refused (code " + std::to_string(rc) + ")");
    }
    disable_nagle_towards(uri_port(uri));
}

SyncPublisher::~SyncPublisher() {
    MQTTClient_disconnect(handle_, 1000);
    MQTTClient_destroy(&handle_);
}

bool SyncPublisher::publish(const std::string& topic, std::string_view payload, int qos) {
    return MQTTClient_publish(handle_, topic.c_str(), static_cast<int>(payload.size()),
                              const_cast<char*>(payload.data()), qos, 0,
                              nullptr) == MQTTCLIENT_SUCCESS;
}

}  // namespace gaffer::bench::devices
