#include "broker.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace gaffer::mqtt::testing {
namespace {

constexpr const char* kMosquitto = "/usr/sbin/mosquitto";

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0)
        throw std::runtime_error(std::string("no free port: ") + std::strerror(errno));
    ::close(fd);
    return ntohs(addr.sin_port);
}

bool accepting(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

pid_t spawn(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
    return pid;
}

}  // namespace

bool running_as_root() { return ::geteuid() == 0; }

int run_program(const std::vector<std::string>& argv) {
    pid_t pid = spawn(argv);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Broker::Broker(std::string extra_config) : port_(free_port()) {
    char pattern[] = "/tmp/gaffer-mqtt-XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    ::chmod(dir_.c_str(), 0755);
    std::ofstream config(dir_ + "/mosquitto.conf");
    config << "listener " << port_ << " 127.0.0.1\n"
           << "persistence true\n"
           << "persistence_location " << dir_ << "/\n"
           << "log_dest file " << dir_ << "/mosquitto.log\n"
           << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
           << "connection_messages true\n"
           << "max_queued_messages 100000\n"
           << "allow_anonymous true\n"
           << extra_config;
    config.close();
    // mosquitto drops root to `mosquitto`, which must be able to write its files here.
    if (passwd* user = ::getpwnam("mosquitto"))
        if (::chown(dir_.c_str(), user->pw_uid, user->pw_gid) != 0)
            throw std::runtime_error("cannot chown " + dir_ + ": " + std::strerror(errno));
}

Broker::~Broker() {
    try {
        stop();
    } catch (...) {
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void Broker::start() {
    if (pid_ > 0) return;
    pid_ = spawn({kMosquitto, "-c", dir_ + "/mosquitto.conf"});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!accepting(port_)) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("mosquitto exited at start:\n" + log());
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("mosquitto did not listen on " + std::to_string(port_) + ":\n" + log());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void Broker::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
}

void Broker::restart(std::chrono::milliseconds down) {
    stop();
    std::this_thread::sleep_for(down);
    start();
}

void Broker::forget_state() {
    if (pid_ > 0) throw std::runtime_error("forget_state() needs a stopped broker");
    std::filesystem::remove(dir_ + "/mosquitto.db");
}

std::string Broker::log() const {
    std::ifstream in(dir_ + "/mosquitto.log");
    std::stringstream text;
    text << in.rdbuf();
    std::string all = text.str();
    return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
}

}  // namespace gaffer::mqtt::testing
