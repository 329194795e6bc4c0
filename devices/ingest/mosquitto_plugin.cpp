// gaffer-mosquitto-ingest.so: the mosquitto 2.0 plugin that holds back the PUBACK of a QoS 1
// device message bound for a task until gafferd has committed it (see ingest.hpp).
//
//   plugin /usr/libexec/gaffer/gaffer-mosquitto-ingest.so
//   plugin_opt_socket /run/mosquitto/gaffer-ingest.sock       (required; gafferd connects)
//   plugin_opt_routes_file /var/lib/mosquitto/gaffer-ingest.routes   (optional)
//   plugin_opt_timeout_ms 2000                                 (optional, 10..60000)
//
// The routes file keeps the last routes gafferd sent across a broker restart, so that the
// devices' messages are held back from the broker's first second on, not only once gafferd
// has reconnected.
//
// Everything runs on the broker's one thread: while a message waits for its verdict, the
// broker waits too (one SQLite commit, about a millisecond). No exception leaves a callback.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <mqtt_protocol.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "devices/ingest/ingest.hpp"

namespace {

using gaffer::ingest::Decoder;
using gaffer::ingest::Frame;
using gaffer::ingest::Routes;
using gaffer::ingest::Verdict;
using Clock = std::chrono::steady_clock;

struct Plugin {
    mosquitto_plugin_id_t* id = nullptr;
    std::string socket_path;
    std::string routes_file;
    int timeout_ms = 2000;
    int listener = -1;
    int peer = -1;  // gafferd
    Decoder decoder;
    std::unordered_map<std::string, std::vector<std::string>> filters;  // thing -> filters
    std::uint64_t seq = 0;
    // The control socket (gafferd connecting, new routes) is read at most every
    // kControlPollEvery, from the broker's loop turns (MOSQ_EVT_TICK) and before a QoS 1
    // message is matched: two syscalls per message or per loop turn cost a busy broker
    // about a sixth of its shadow throughput (bench/devices/run).
    Clock::time_point control_polled{};
    // Refusals can come by the hundred a second while gafferd is down: one line a second.
    Clock::time_point refusal_logged{};
    unsigned refusals_unlogged = 0;
};

void apply_routes(Plugin& p, const Routes& routes) {
    p.filters.clear();
    for (const auto& r : routes.filters) p.filters[r.thing].push_back(r.filter);
}

void save_routes(const Plugin& p, const Routes& routes) {
    if (p.routes_file.empty()) return;
    std::string bytes;
    gaffer::ingest::encode(routes, bytes);
    const std::string tmp = p.routes_file + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out.flush()) {
            mosquitto_log_printf(MOSQ_LOG_WARNING, "gaffer-ingest: cannot write %s: %s", tmp.c_str(), std::strerror(errno));
            return;
        }
    }
    if (std::rename(tmp.c_str(), p.routes_file.c_str()) != 0)
        mosquitto_log_printf(MOSQ_LOG_WARNING, "gaffer-ingest: cannot replace %s: %s", p.routes_file.c_str(), std::strerror(errno));
}

void load_routes(Plugin& p) {
    if (p.routes_file.empty()) return;
    std::ifstream in(p.routes_file, std::ios::binary);
    if (!in) return;  // none yet
    std::stringstream bytes;
    bytes << in.rdbuf();
    Decoder decoder;
    decoder.feed(bytes.str());
    auto frame = decoder.next();
    if (!frame || !std::holds_alternative<Routes>(*frame)) {
        mosquitto_log_printf(MOSQ_LOG_WARNING, "gaffer-ingest: ignoring %s: not a routes file", p.routes_file.c_str());
        return;
    }
    apply_routes(p, std::get<Routes>(*frame));
    mosquitto_log_printf(MOSQ_LOG_INFO, "gaffer-ingest: %zu devices have routes to tasks (from %s)", p.filters.size(),
                         p.routes_file.c_str());
}

void drop_peer(Plugin& p, const char* why) {
    if (p.peer < 0) return;
    ::close(p.peer);
    p.peer = -1;
    mosquitto_log_printf(MOSQ_LOG_WARNING, "gaffer-ingest: gafferd went away (%s)", why);
}

// Takes a waiting connection from gafferd; a new one replaces the old (gafferd restarted).
void accept_peer(Plugin& p) {
    for (;;) {
        const int fd = ::accept4(p.listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        if (p.peer >= 0) drop_peer(p, "replaced by a new connection");
        p.peer = fd;
        p.decoder = Decoder();
        mosquitto_log_printf(MOSQ_LOG_INFO, "gaffer-ingest: gafferd connected");
    }
}

// Reads what gafferd has sent, without waiting; applies routes; returns the verdict for
// `want` if it came. false when the connection broke.
bool pump(Plugin& p, std::uint64_t want, std::optional<Verdict>& verdict) {
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::recv(p.peer, buffer, sizeof buffer, 0);
        if (n == 0) return drop_peer(p, "end of stream"), false;
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return drop_peer(p, std::strerror(errno)), false;
        }
        p.decoder.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
        if (static_cast<std::size_t>(n) < sizeof buffer) break;
    }
    while (auto frame = p.decoder.next()) {
        if (auto* routes = std::get_if<Routes>(&*frame)) {
            apply_routes(p, *routes);
            save_routes(p, *routes);
        } else if (auto* v = std::get_if<Verdict>(&*frame); v && v->seq == want) {
            verdict = std::move(*v);
        }  // an older verdict: that message was already refused on timeout
    }
    if (p.decoder.broken()) return drop_peer(p, p.decoder.error().c_str()), false;
    return true;
}

constexpr auto kControlPollEvery = std::chrono::milliseconds(1);

void poll_control(Plugin& p) {
    p.control_polled = Clock::now();
    accept_peer(p);
    std::optional<Verdict> none;
    if (p.peer >= 0) pump(p, 0, none);
}

bool needs_commit(const Plugin& p, const char* client_id, const char* topic) {
    if (!client_id || !topic) return false;
    auto it = p.filters.find(client_id);
    if (it == p.filters.end()) return false;
    for (const auto& filter : it->second) {
        bool match = false;
        if (mosquitto_topic_matches_sub(filter.c_str(), topic, &match) == MOSQ_ERR_SUCCESS && match) return true;
    }
    return false;
}

bool write_all(Plugin& p, const std::string& bytes, Clock::time_point deadline) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::send(p.peer, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return drop_peer(p, std::strerror(errno)), false;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd fd{p.peer, POLLOUT, 0};
        ::poll(&fd, 1, static_cast<int>(left));
    }
    return true;
}

// Hands the message to gafferd and waits for its verdict. Returns the reason it was not
// accepted, or an empty string.
std::string commit(Plugin& p, const mosquitto_evt_message& msg, const char* client_id) {
    if (p.peer < 0) accept_peer(p);  // gafferd may have connected since the last poll
    if (p.peer < 0) return "gafferd is not connected";
    const auto deadline = Clock::now() + std::chrono::milliseconds(p.timeout_ms);
    gaffer::ingest::Message out;
    out.seq = ++p.seq;
    out.client_id = client_id;
    out.topic = msg.topic;
    out.qos = msg.qos;
    out.retain = msg.retain;
    out.payload.assign(static_cast<const char*>(msg.payload), msg.payloadlen);
    std::string bytes;
    gaffer::ingest::encode(Frame{std::move(out)}, bytes);
    if (!write_all(p, bytes, deadline)) return "could not hand it to gafferd";
    std::optional<Verdict> verdict;
    while (!verdict) {
        if (!pump(p, p.seq, verdict)) return "gafferd went away";
        if (verdict) break;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return "gafferd did not answer within " + std::to_string(p.timeout_ms) + " ms";
        pollfd fd{p.peer, POLLIN, 0};
        ::poll(&fd, 1, static_cast<int>(left));
    }
    if (!verdict->accepted) return verdict->reason.empty() ? "gafferd refused it" : verdict->reason;
    return {};
}

void log_refusal(Plugin& p, const char* client_id, const char* topic, const std::string& why) {
    const auto now = Clock::now();
    if (p.refusal_logged != Clock::time_point{} && now - p.refusal_logged < std::chrono::seconds(1)) {
        ++p.refusals_unlogged;
        return;
    }
    mosquitto_log_printf(MOSQ_LOG_WARNING,
                         "gaffer-ingest: not acknowledging a QoS 1 message from %s on %s: %s; disconnecting "
                         "the client, which sends it again when it reconnects (%u more in the last second)",
                         client_id, topic, why.c_str(), p.refusals_unlogged);
    p.refusal_logged = now;
    p.refusals_unlogged = 0;
}

int on_message(int, void* event_data, void* userdata) {
    auto& p = *static_cast<Plugin*>(userdata);
    auto& msg = *static_cast<mosquitto_evt_message*>(event_data);
    try {
        if (msg.qos == 0) return MOSQ_ERR_SUCCESS;
        if (Clock::now() - p.control_polled >= kControlPollEvery) poll_control(p);
        const char* client_id = mosquitto_client_id(msg.client);
        if (!needs_commit(p, client_id, msg.topic)) return MOSQ_ERR_SUCCESS;
        const std::string refused = commit(p, msg, client_id);
        if (!refused.empty()) {
            log_refusal(p, client_id, msg.topic, refused);
            // Closing the connection without a PUBACK is the one refusal every MQTT version
            // understands: the message stays the device's to send again.
            return MOSQ_ERR_ADMINISTRATIVE_ACTION;
        }
        mosquitto_property_add_string_pair(&msg.properties, MQTT_PROP_USER_PROPERTY, gaffer::mqtt::kIngestedProperty, "1");
        return MOSQ_ERR_SUCCESS;
    } catch (...) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "gaffer-ingest: out of memory handling a message");
        return MOSQ_ERR_NOMEM;
    }
}

int on_tick(int, void*, void* userdata) {
    try {
        auto& p = *static_cast<Plugin*>(userdata);
        if (Clock::now() - p.control_polled >= kControlPollEvery) poll_control(p);
    } catch (...) {
    }
    return MOSQ_ERR_SUCCESS;
}

int open_listener(Plugin& p) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (p.socket_path.empty() || p.socket_path.size() >= sizeof addr.sun_path) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "gaffer-ingest: plugin_opt_socket must be a path of 1..%zu bytes",
                             sizeof addr.sun_path - 1);
        return MOSQ_ERR_INVAL;
    }
    std::memcpy(addr.sun_path, p.socket_path.c_str(), p.socket_path.size() + 1);
    p.listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::unlink(p.socket_path.c_str());  // a stale socket from the last run
    if (p.listener < 0 || ::bind(p.listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::chmod(p.socket_path.c_str(), 0600) != 0 || ::listen(p.listener, 4) != 0) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "gaffer-ingest: cannot listen on %s: %s", p.socket_path.c_str(),
                             std::strerror(errno));
        return MOSQ_ERR_UNKNOWN;
    }
    return MOSQ_ERR_SUCCESS;
}

}  // namespace

extern "C" {

int mosquitto_plugin_version(int count, const int* versions) {
    for (int i = 0; i < count; ++i)
        if (versions[i] == 5) return 5;
    return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t* id, void** userdata, mosquitto_opt* options, int option_count) {
    auto* p = new (std::nothrow) Plugin;
    if (!p) return MOSQ_ERR_NOMEM;
    p->id = id;
    for (int i = 0; i < option_count; ++i) {
        const std::string key = options[i].key ? options[i].key : "";
        const std::string value = options[i].value ? options[i].value : "";
        if (key == "socket") {
            p->socket_path = value;
        } else if (key == "routes_file") {
            p->routes_file = value;
        } else if (key == "timeout_ms") {
            char* end = nullptr;
            const long ms = std::strtol(value.c_str(), &end, 10);
            if (value.empty() || *end != '\0' || ms < 10 || ms > 60000) {
                mosquitto_log_printf(MOSQ_LOG_ERR, "gaffer-ingest: plugin_opt_timeout_ms '%s': want 10..60000", value.c_str());
                delete p;
                return MOSQ_ERR_INVAL;
            }
            p->timeout_ms = static_cast<int>(ms);
        }
    }
    if (const int rc = open_listener(*p); rc != MOSQ_ERR_SUCCESS) {
        if (p->listener >= 0) ::close(p->listener);
        delete p;
        return rc;
    }
    load_routes(*p);
    mosquitto_callback_register(id, MOSQ_EVT_MESSAGE, on_message, nullptr, p);
    mosquitto_callback_register(id, MOSQ_EVT_TICK, on_tick, nullptr, p);
    *userdata = p;
    mosquitto_log_printf(MOSQ_LOG_INFO, "gaffer-ingest: waiting for gafferd on %s", p->socket_path.c_str());
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_cleanup(void* userdata, mosquitto_opt*, int) {
    auto* p = static_cast<Plugin*>(userdata);
    if (!p) return MOSQ_ERR_SUCCESS;
    mosquitto_callback_unregister(p->id, MOSQ_EVT_MESSAGE, on_message, nullptr);
    mosquitto_callback_unregister(p->id, MOSQ_EVT_TICK, on_tick, nullptr);
    if (p->peer >= 0) ::close(p->peer);
    if (p->listener >= 0) {
        ::close(p->listener);
        ::unlink(p->socket_path.c_str());
    }
    delete p;
    return MOSQ_ERR_SUCCESS;
}

}  // extern "C"
