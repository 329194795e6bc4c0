#include "coordinator/cli/detail/exchange.hpp"

#include <cctype>
#include <iostream>
#include <iterator>

#include "coordinator/cli/cli.hpp"

namespace gaffer::cli::detail {

using nlohmann::json;

int fail(int code, const std::string& message) {
    std::cerr << "gaffer: " << message << '\n';
    return code;
}

int fail_local(const base::Error& e) {
    return fail(e.code == base::Errc::unavailable ? exit_unreachable : exit_invalid, e.message);
}

std::string segment(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::optional<http::Response> exchange(const Globals& g, std::string method, std::string target,
                                       int& code, std::string body) {
    http::Request q;
    q.method = std::move(method);
    q.target = std::move(target);
    q.body = std::move(body);
    if (!q.body.empty()) q.headers.emplace_back("Content-Type", "application/json");
    auto response = cli::call(g.socket, std::move(q));
    if (!response) {
        code = fail(response.error().code == base::Errc::unavailable ? exit_unreachable
                                                                      : exit_server_error,
                    response.error().message);
        return std::nullopt;
    }
    return std::move(*response);
}

std::optional<http::Response> request(const Globals& g, std::string method, std::string target,
                                      int& code, std::string body) {
    auto response = exchange(g, std::move(method), std::move(target), code, std::move(body));
    if (!response) return std::nullopt;
    if (response->status >= 300) {
        code = fail(exit_code_for(*response), error_message(*response));
        if (g.json) std::cout << response->body;
        return std::nullopt;
    }
    return response;
}

std::optional<json> body_json(const http::Response& r, int& code) {
    auto j = json::parse(r.body, nullptr, false);
    if (j.is_discarded()) {
        code = fail(exit_server_error, "gafferd answered with a body that is not JSON");
        return std::nullopt;
    }
    return j;
}

std::string text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "-";
    return v.dump();
}

const json& member(const json& obj, const char* key) {
    static const json null;
    if (!obj.is_object()) return null;
    auto it = obj.find(key);
    return it != obj.end() ? *it : null;
}

void print_raw(const std::string& body) {
    std::cout << body;
    if (!body.empty() && body.back() != '\n') std::cout << '\n';
}

base::Result<std::string> read_input(const std::string& file) {
    if (file != "-") return base::read_file(file);
    std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    if (std::cin.bad()) return base::fail(base::Errc::io, "reading standard input failed");
    return all;
}

}  // namespace gaffer::cli::detail
