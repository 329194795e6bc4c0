#include <filesystem>

#include <nlohmann/json.hpp>

#include "coordinator/cli/cli.hpp"

namespace gaffer::cli {

int exit_code_for(const http::Response& response) {
    const int s = response.status;
    if (s >= 200 && s < 300) {
        const std::string* status = http::find_header(response.headers, "X-Gaffer-Status");
        return status && *status != "ok" ? exit_invocation_failed : exit_ok;
    }
    if (s == 404) return exit_not_found;
    if (s == 403) return exit_denied;
    if (s == 429) return exit_busy;
    // A conflict is the daemon's state refusing the request, not bad input (docs/cli.md).
    if (s == 409) return exit_server_error;
    if (s >= 400 && s < 500) return exit_invalid;
    return exit_server_error;
}

std::string error_message(const http::Response& response) {
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_object() && body.contains("message") && body["message"].is_string()) {
        return body["message"].get<std::string>();
    }
    return "gafferd answered " + std::to_string(response.status) + " " +
           std::string(http::reason_phrase(response.status));
}

base::Result<std::string> resolve_artifact_dir(std::string_view manifest_json,
                                               const std::string& base_dir) {
    // ordered_json keeps the author's field order, so the daemon's error messages about
    // the manifest still read like the file.
    auto manifest = nlohmann::ordered_json::parse(manifest_json, nullptr, false);
    if (manifest.is_discarded() || !manifest.is_object()) {
        return base::fail(base::Errc::invalid, "the manifest is not a JSON object");
    }
    auto it = manifest.find("artifact_dir");
    if (it == manifest.end()) return std::string(manifest_json);
    if (!it->is_string()) return base::fail(base::Errc::invalid, "artifact_dir: must be a string");
    const std::filesystem::path dir = it->get<std::string>();
    if (dir.empty() || dir.is_absolute()) return std::string(manifest_json);
    std::error_code ec;
    std::filesystem::path base = std::filesystem::absolute(base_dir, ec);
    if (ec) return base::fail(base::Errc::invalid, "cannot resolve " + base_dir + ": " + ec.message());
    *it = (base / dir).lexically_normal().string();
    return manifest.dump(2);
}

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) {
            width[c] = std::max(width[c], row[c].size());
        }
    }
    std::string out;
    auto line = [&](const std::vector<std::string>& cells) {
        std::string text;
        for (std::size_t c = 0; c < width.size(); ++c) {
            const std::string cell = c < cells.size() ? cells[c] : std::string();
            text += cell;
            if (c + 1 < width.size()) text.append(width[c] - cell.size() + 2, ' ');
        }
        out += text;
        out += '\n';
    };
    line(header);
    for (const auto& row : rows) line(row);
    return out;
}

}  // namespace gaffer::cli
