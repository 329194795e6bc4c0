// gaffer::cli — the `gaffer` command-line client. It talks to gafferd's local API over
// the Unix socket with the http codec and plain blocking sockets. docs/cli.md lists the
// commands and the exit codes scripts can rely on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "coordinator/base/base.hpp"
#include "coordinator/http/http.hpp"

namespace gaffer::cli {

enum ExitCode : int {
    exit_ok = 0,
    exit_usage = 1,           // bad command line
    exit_unreachable = 2,     // the daemon's socket cannot be reached
    exit_not_found = 3,       // 404
    exit_invalid = 4,         // 400 and other 4xx input errors (not 409); a local file that is not JSON
    exit_busy = 5,            // 429
    exit_invocation_failed = 6,  // the task's invocation ended other than ok
    exit_denied = 7,          // 403
    exit_server_error = 8,    // 409, 5xx, any other failure reported by the daemon
};

// Parses the command line, runs the command, prints, and returns the exit code.
int run(int argc, char** argv);

// The exit code for an API response (X-Gaffer-Status != ok on a 200 is exit 6).
int exit_code_for(const http::Response& response);

// The error message of an API error response: its JSON "message", else the status line.
std::string error_message(const http::Response& response);

// Rewrites a relative "artifact_dir" of a manifest as an absolute, normalized path under
// `base_dir`; other fields and their order are kept. Errors: invalid (not a JSON object,
// artifact_dir not a string).
base::Result<std::string> resolve_artifact_dir(std::string_view manifest_json,
                                               const std::string& base_dir);

// Sends one request over a fresh connection and reads the whole response. Errors:
// unavailable (cannot connect: no socket, refused, permission), io (the connection
// broke), invalid (the answer is not HTTP).
base::Result<http::Response> call(const std::string& socket_path, http::Request request);

// Fixed-width text table: a header row and rows, columns padded to their widest cell.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

}  // namespace gaffer::cli
