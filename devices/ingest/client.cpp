// gafferd's end of the plugin channel: connect, send the routes, answer message frames.
#include "coordinator/loop/loop.hpp"
#include "devices/ingest/ingest.hpp"

namespace gaffer::ingest {

struct Client::Impl : std::enable_shared_from_this<Client::Impl> {
    Impl(loop::Loop& l, Options o, OnMessage m, OnLog g)
        : loop(l), options(std::move(o)), on_message(std::move(m)), on_log(std::move(g)), retry(l) {}

    loop::Loop& loop;
    Options options;
    OnMessage on_message;
    OnLog on_log;
    loop::Timer retry;
    std::unique_ptr<loop::Stream> stream;
    Decoder decoder;
    std::vector<RouteFilter> routes;
    std::uint64_t generation = 0;  // of the connection; an answer for an older one is dropped
    std::string last_failure;      // logged once, not on every retry

    void log(base::LogLevel level, const std::string& text) const {
        if (on_log) on_log(level, text);
    }

    void connect() {
        auto fd = base::connect_unix(options.socket_path);
        if (!fd) return failed(fd.error().message);
        auto adopted = loop::Stream::adopt(loop, std::move(*fd));
        if (!adopted) return failed(adopted.error().message);
        stream = std::move(*adopted);
        decoder = Decoder();
        ++generation;
        last_failure.clear();
        std::weak_ptr<Impl> weak = shared_from_this();
        stream->start([weak](std::string_view bytes) {
                          if (auto self = weak.lock()) self->received(bytes);
                      },
                      [weak](base::Error reason) {
                          if (auto self = weak.lock()) self->lost(reason.message);
                      });
        send_routes();
        log(base::LogLevel::info, "ingest: connected to the broker's plugin at " + options.socket_path +
                                      ": QoS 1 device messages to tasks are acknowledged once committed");
    }

    void failed(const std::string& why) {
        if (why != last_failure)
            log(base::LogLevel::warning, "ingest: no broker plugin (" + why + "); until there is, QoS 1 device "
                                         "messages are acknowledged by the broker before gafferd commits them. "
                                         "Retrying every " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(options.retry).count()) + " ms");
        last_failure = why;
        schedule();
    }

    void lost(const std::string& why) {
        stream.reset();
        log(base::LogLevel::warning, "ingest: lost the broker's plugin: " + why);
        last_failure = why;
        schedule();
    }

    void schedule() {
        std::weak_ptr<Impl> weak = shared_from_this();
        retry.start(options.retry, [weak] {
            if (auto self = weak.lock()) self->connect();
        });
    }

    void send(const Frame& frame) {
        if (!stream) return;
        std::string bytes;
        encode(frame, bytes);
        stream->write(std::move(bytes));
    }

    void send_routes() { send(Routes{routes}); }

    void received(std::string_view bytes) {
        decoder.feed(bytes);
        while (auto frame = decoder.next()) {
            auto* message = std::get_if<Message>(&*frame);
            if (!message) continue;  // the plugin sends nothing else
            const std::uint64_t seq = message->seq;
            std::weak_ptr<Impl> weak = shared_from_this();
            const std::uint64_t from = generation;
            auto answered = std::make_shared<bool>(false);
            on_message(std::move(*message), [weak, from, seq, answered](bool accepted, std::string reason) {
                if (std::exchange(*answered, true)) return;
                auto self = weak.lock();
                if (!self || self->generation != from) return;
                self->send(Verdict{seq, accepted, std::move(reason)});
            });
            if (!stream) return;  // the handler stopped us
        }
        if (decoder.broken()) {
            stream.reset();
            log(base::LogLevel::error, "ingest: the plugin sent " + decoder.error() + "; reconnecting");
            schedule();
        }
    }
};

Client::Client(loop::Loop& loop, Options options, OnMessage on_message, OnLog on_log)
    : impl_(std::make_shared<Impl>(loop, std::move(options), std::move(on_message), std::move(on_log))) {}

Client::~Client() = default;

void Client::start() { impl_->connect(); }

void Client::set_routes(std::vector<RouteFilter> routes) {
    if (routes == impl_->routes) return;
    impl_->routes = std::move(routes);
    impl_->send_routes();
}

bool Client::connected() const { return impl_->stream != nullptr; }

}  // namespace gaffer::ingest
