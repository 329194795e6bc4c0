#include "harness.hpp"

#include <doctest/doctest.h>

namespace gaffer::mqtt::testing {

bool run_until(loop::Loop& loop, std::chrono::milliseconds timeout, const std::function<bool()>& done) {
    if (done()) return true;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    loop::Timer tick(loop);
    tick.start(
        std::chrono::milliseconds(2),
        [&] {
            if (done() || std::chrono::steady_clock::now() > deadline) loop.stop();
        },
        std::chrono::milliseconds(2));
    loop.run();
    return done();
}

void run_for(loop::Loop& loop, std::chrono::milliseconds duration) {
    auto deadline = std::chrono::steady_clock::now() + duration;
    run_until(loop, duration + std::chrono::seconds(1),
              [deadline] { return std::chrono::steady_clock::now() >= deadline; });
}

int Recorder::connects() const {
    int n = 0;
    for (const auto& event : connection_events) n += event.first ? 1 : 0;
    return n;
}

int Recorder::disconnects() const {
    return static_cast<int>(connection_events.size()) - connects();
}

std::unique_ptr<Link> start_link(loop::Loop& loop, LinkOptions options, Recorder& recorder) {
    auto link = make_paho_link(loop, std::move(options));
    REQUIRE_MESSAGE(link.has_value(), (link ? "" : link.error().message));
    (*link)->set_handlers([&recorder](Message m) { recorder.messages.push_back(std::move(m)); },
                          [&recorder](bool up, std::string reason) {
                              recorder.connection_events.emplace_back(up, std::move(reason));
                          });
    (*link)->start();
    return std::move(*link);
}

LinkOptions options_for(const std::string& uri, const std::string& client_id) {
    LinkOptions options;
    options.uri = uri;
    options.client_id = client_id;
    options.reconnect_min = std::chrono::milliseconds(50);
    options.reconnect_max = std::chrono::milliseconds(400);
    return options;
}

}  // namespace gaffer::mqtt::testing
