// What every command does around its API call: send it, turn failures into a message on
// stderr and an exit code, read JSON answers, print. Private to coordinator/cli.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "coordinator/cli/detail/commands.hpp"
#include "coordinator/http/http.hpp"

namespace gaffer::cli::detail {

// Prints "gaffer: <message>" to stderr and returns `code`.
int fail(int code, const std::string& message);
// For a local failure (reading a file): unreachable for unavailable, else invalid.
int fail_local(const base::Error& e);

// A path segment carrying user input, percent-encoded outside the unreserved set.
std::string segment(std::string_view text);
// A query value, percent-encoded like a segment.
inline std::string query_value(std::string_view text) { return segment(text); }

// One API call. On success (status < 300) returns the response for the caller to print;
// on an API or connection error prints `gaffer: <message>` (with --json, the error
// document to stdout too) and stores the exit code in `code`.
std::optional<http::Response> request(const Globals& g, std::string method, std::string target,
                                      int& code, std::string body = {});
// As request(), but hands back every answer the daemon gave (any status); nullopt only
// when there was no answer (connection failure, message printed, `code` set).
std::optional<http::Response> exchange(const Globals& g, std::string method, std::string target,
                                       int& code, std::string body = {});

// The body as JSON; on a body that is not JSON prints an error and sets `code`.
std::optional<nlohmann::json> body_json(const http::Response& r, int& code);
// A JSON value for a table cell: strings bare, null as "-", others as JSON.
std::string text(const nlohmann::json& v);
// obj[key], or null when obj is not an object or has no such key (never throws).
const nlohmann::json& member(const nlohmann::json& obj, const char* key);
// The body, with a final newline.
void print_raw(const std::string& body);
// A whole file, or standard input for "-".
base::Result<std::string> read_input(const std::string& file);

}  // namespace gaffer::cli::detail
