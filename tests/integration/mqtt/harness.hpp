// What the MQTT integration tests share: a loop that runs until a condition holds, and a
// link whose events are recorded.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/loop/loop.hpp"
#include "devices/mqtt/mqtt.hpp"

namespace gaffer::mqtt::testing {

// Runs the loop until `done()` (checked every few ms) or the timeout; returns done().
bool run_until(loop::Loop& loop, std::chrono::milliseconds timeout, const std::function<bool()>& done);
void run_for(loop::Loop& loop, std::chrono::milliseconds duration);

struct Recorder {
    std::vector<Message> messages;
    std::vector<std::pair<bool, std::string>> connection_events;
    int connects() const;
    int disconnects() const;
};

// A started link to `uri` whose handlers append to `recorder`. Fails the test if the
// options are refused.
std::unique_ptr<Link> start_link(loop::Loop& loop, LinkOptions options, Recorder& recorder);

LinkOptions options_for(const std::string& uri, const std::string& client_id);

}  // namespace gaffer::mqtt::testing
