// A real mosquitto for the MQTT integration tests (the C++ twin of
// tests/integration/support/mosquitto.py): Debian's broker on a free 127.0.0.1 port, a
// generated config with persistence in a private temporary directory owned by the
// `mosquitto` user (the broker drops root to it). Throws std::runtime_error on failure.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace gaffer::mqtt::testing {

class Broker {
public:
    explicit Broker(std::string extra_config = "");
    ~Broker();  // stops the broker and removes its directory
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    void start();
    void stop();  // SIGTERM: mosquitto saves its persistence file on the way out
    void restart(std::chrono::milliseconds down = std::chrono::milliseconds(0));
    void forget_state();  // while stopped: removes the persistence file (sessions, queues)

    int port() const { return port_; }
    std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
    std::string log() const;  // the end of the broker's log, for failure messages

private:
    std::string dir_;
    int port_ = 0;
    pid_t pid_ = -1;
};

// Runs a program to completion (stdout and stderr to /dev/null); its exit status, or -1.
int run_program(const std::vector<std::string>& argv);

// True when this process may run the integration tests (see integration_main.cpp).
bool running_as_root();

}  // namespace gaffer::mqtt::testing
