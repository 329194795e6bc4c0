// gafferd's local API for the device benchmarks: blocking keep-alive HTTP over its Unix
// socket (one connection per ApiConnection; one thread each), and the /metrics counters.
// Errors throw std::runtime_error.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "bench/blocking_http.hpp"

namespace gaffer::bench::devices {

class ApiConnection {
public:
    explicit ApiConnection(const std::string& socket_path);
    ~ApiConnection();
    ApiConnection(const ApiConnection&) = delete;
    ApiConnection& operator=(const ApiConnection&) = delete;

    // One exchange; throws when the connection fails (not on an HTTP error status).
    http::Response request(const std::string& method, const std::string& target, std::string body = {});

    // GET /metrics as {"family{labels}": value}; families without labels are plain names.
    std::map<std::string, double> metrics();

private:
    int fd_;
    BlockingHttp http_;
};

// A device's password file: one "thing<TAB>password" line per device (bench_device_register
// writes it). Throws when the file cannot be read.
std::map<std::string, std::string> read_passwords(const std::string& path);

// "name=value" arguments after argv[first] into a map; a missing key in `require` throws.
std::map<std::string, std::string> parse_args(int argc, char** argv, int first,
                                              std::initializer_list<const char*> require);

}  // namespace gaffer::bench::devices
