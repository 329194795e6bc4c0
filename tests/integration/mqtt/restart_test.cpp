// Broker outages: the link reconnects, resubscribes, and loses no QoS 1 message the broker
// accepted (persistent session + broker persistence).
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "broker.hpp"
#include "harness.hpp"

using namespace gaffer;
using namespace gaffer::mqtt;
using namespace gaffer::mqtt::testing;
using namespace std::chrono_literals;

namespace {

// mosquitto_pub in a loop, one QoS 1 message per run: exit status 0 means the broker
// acknowledged it (PUBACK), so it must not be lost.
class Publisher {
public:
    Publisher(int port, int count) : thread_([this, port, count] {
        for (int i = 0; i < count; ++i) {
            int status = run_program({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p",
                                      std::to_string(port), "-q", "1", "-i", "loadgen",
                                      "-t", "load/seq", "-m", std::to_string(i)});
            std::lock_guard lock(mutex_);
            (status == 0 ? accepted_ : refused_).insert(i);
        }
        done_ = true;
    }) {}
    ~Publisher() { thread_.join(); }
    bool done() const { return done_; }
    std::set<int> accepted() const {
        std::lock_guard lock(mutex_);
        return accepted_;
    }
    std::size_t refused() const {
        std::lock_guard lock(mutex_);
        return refused_.size();
    }

private:
    mutable std::mutex mutex_;
    std::set<int> accepted_, refused_;
    std::atomic<bool> done_{false};
    std::thread thread_;
};

std::set<int> sequence_numbers(const std::vector<Message>& messages) {
    std::set<int> out;
    for (const auto& m : messages)
        if (m.topic == "load/seq") out.insert(std::stoi(m.payload));
    return out;
}

}  // namespace

TEST_SUITE("integration") {

TEST_CASE("a broker restart during QoS 1 traffic loses no accepted message") {
    Broker broker;
    broker.start();
    loop::Loop loop;
    Recorder seen;
    auto link = start_link(loop, options_for(broker.uri(), "survivor"), seen);
    REQUIRE(link->subscribe("load/#", 1));
    REQUIRE(run_until(loop, 5s, [&] { return link->connected(); }));
    run_for(loop, 100ms);  // the SUBACK

    // The link publishes too while all this happens: every publish must complete once.
    int issued = 0, completed = 0, succeeded = 0;
    std::map<std::string, int> failures;  // by error code, for the record
    loop::Timer ticker(loop);
    ticker.start(5ms, [&] {
        ++issued;
        link->publish(Message{"out/tick", std::to_string(issued), 1, false}, [&](base::Result<void> r) {
            ++completed;
            if (r) ++succeeded;
            else ++failures[std::string(base::errc_name(r.error().code))];
        });
    }, 5ms);

    constexpr int kCount = 300;
    Publisher publisher(broker.port(), kCount);
    REQUIRE(run_until(loop, 30s, [&] { return publisher.accepted().size() >= 100; }));
    broker.restart(300ms);  // SIGTERM: mosquitto saves the session queue; loop paused meanwhile
    REQUIRE_MESSAGE(run_until(loop, 60s, [&] { return publisher.done(); }), broker.log());
    auto accepted = publisher.accepted();
    bool all = run_until(loop, 20s, [&] {
        auto got = sequence_numbers(seen.messages);
        for (int n : accepted)
            if (!got.count(n)) return false;
        return true;
    });
    auto got = sequence_numbers(seen.messages);
    std::string missing;
    for (int n : accepted)
        if (!got.count(n)) missing += std::to_string(n) + " ";
    CHECK_MESSAGE(all, "accepted by the broker but never received: " << missing << "\n" << broker.log());
    MESSAGE("accepted " << accepted.size() << ", refused during the outage " << publisher.refused()
                        << ", received " << got.size() << " distinct of " << seen.messages.size());
    CHECK(seen.connects() >= 2);
    CHECK(seen.disconnects() >= 1);

    ticker.stop();
    bool stopped = false;
    link->stop([&] { stopped = true; });
    REQUIRE(run_until(loop, 10s, [&] { return stopped; }));
    CHECK(completed == issued);
    CHECK(succeeded > 0);
    std::string summary;
    for (const auto& [code, n] : failures) summary += " " + code + "=" + std::to_string(n);
    MESSAGE("the link's own publishes: " << issued << " issued, " << succeeded << " acknowledged;" << summary);
}

TEST_CASE("a broker that lost its state gets the subscriptions again") {
    Broker broker;
    broker.start();
    loop::Loop loop;
    Recorder seen;
    auto link = start_link(loop, options_for(broker.uri(), "amnesia"), seen);
    REQUIRE(link->subscribe("fresh/a", 1));
    REQUIRE(link->subscribe("fresh/b/#", 0));
    REQUIRE(run_until(loop, 5s, [&] { return link->connected(); }));
    run_for(loop, 100ms);

    // Publishes in flight when the broker goes away, and the session gone when it is back:
    // each still completes once (Paho resends or fails them; none is left hanging).
    constexpr int kInFlight = 300;
    int completed = 0;
    for (int i = 0; i < kInFlight; ++i)
        link->publish(Message{"elsewhere/x", std::to_string(i), 1, false}, [&](base::Result<void>) { ++completed; });
    broker.stop();
    broker.forget_state();  // no session survives: only resubscribing brings messages back
    broker.start();
    REQUIRE(run_until(loop, 10s, [&] { return seen.connects() == 2; }));
    CHECK(run_until(loop, 10s, [&] { return completed == kInFlight; }));
    run_for(loop, 200ms);  // the SUBACKs
    for (const char* topic : {"fresh/a", "fresh/b/c"})
        CHECK(run_program({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()),
                           "-q", "1", "-t", topic, "-m", topic}) == 0);
    REQUIRE_MESSAGE(run_until(loop, 5s, [&] { return seen.messages.size() == 2; }), broker.log());
    CHECK(seen.messages[0].topic == "fresh/a");
    CHECK(seen.messages[1].topic == "fresh/b/c");
    CHECK(seen.connection_events.back() == std::make_pair(true, std::string("new session")));
}

}  // TEST_SUITE
