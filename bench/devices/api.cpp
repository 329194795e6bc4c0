#include "bench/devices/api.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gaffer::bench::devices {
namespace {

int connect_unix(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const int error = errno;
        ::close(fd);
        throw std::runtime_error("connecting to " + path + ": " + std::strerror(error));
    }
    return fd;
}

}  // namespace

ApiConnection::ApiConnection(const std::string& socket_path) : fd_(connect_unix(socket_path)), http_(fd_) {}

ApiConnection::~ApiConnection() { ::close(fd_); }

http::Response ApiConnection::request(const std::string& method, const std::string& target, std::string body) {
    http::Request request{.method = method, .target = target, .headers = {{"Host", "localhost"}}};
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    request.body = std::move(body);
    auto response = http_.exchange(request);
    if (!response) throw std::runtime_error(method + " " + target + ": the API connection failed");
    return std::move(*response);
}

std::map<std::string, double> ApiConnection::metrics() {
    auto response = request("GET", "/metrics");
    if (response.status != 200) throw std::runtime_error("GET /metrics: status " + std::to_string(response.status));
    std::map<std::string, double> out;
    std::istringstream lines(response.body);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto space = line.rfind(' ');
        if (space == std::string::npos) continue;
        out[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
    }
    return out;
}

std::map<std::string, std::string> read_passwords(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::map<std::string, std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        const auto tab = line.find('\t');
        if (tab != std::string::npos) out[line.substr(0, tab)] = line.substr(tab + 1);
    }
    return out;
}

std::map<std::string, std::string> parse_args(int argc, char** argv, int first,
                                              std::initializer_list<const char*> require) {
    std::map<std::string, std::string> out;
    for (int i = first; i < argc; ++i) {
        const std::string arg = argv[i];
        const auto eq = arg.find('=');
        if (eq == std::string::npos) throw std::runtime_error("argument " + arg + ": expected name=value");
        out[arg.substr(0, eq)] = arg.substr(eq + 1);
    }
    for (const char* key : require)
        if (!out.count(key)) throw std::runtime_error(std::string("missing argument ") + key + "=...");
    return out;
}

}  // namespace gaffer::bench::devices
