#include <charconv>
#include <cstdint>
#include <limits>

#include "tasks/environment/detail/cgroup_files.hpp"

namespace gaffer::environment::detail {

namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    while (true) {
        auto at = text.find(sep);
        parts.push_back(text.substr(0, at));
        if (at == std::string_view::npos) break;
        text.remove_prefix(at + 1);
    }
    return parts;
}

std::vector<std::string_view> lines(std::string_view text) {
    std::vector<std::string_view> out;
    for (auto line : split(text, '\n'))
        if (!line.empty()) out.push_back(line);
    return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '\\' && i + 3 < in.size()) {
            auto d = in.substr(i + 1, 3);
            if (d[0] >= '0' && d[0] <= '3' && d[1] >= '0' && d[1] <= '7' &&
                d[2] >= '0' && d[2] <= '7') {
                out += static_cast<char>((d[0] - '0') * 64 + (d[1] - '0') * 8 + (d[2] - '0'));
                i += 3;
                continue;
            }
        }
        out += in[i];
    }
    return out;
}

}  // namespace

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')) ++i;
        std::size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\n' && text[i] != '\t') ++i;
        if (i > start) words.emplace_back(text.substr(start, i - start));
    }
    return words;
}

base::Result<std::vector<MountEntry>> parse_mountinfo(std::string_view text) {
    std::vector<MountEntry> mounts;
    for (auto line : lines(text)) {
        // id parent major:minor root mount_point options [optional...] - fstype source super
        auto fields = split_words(line);
        std::size_t dash = 0;
        for (std::size_t i = 6; i < fields.size(); ++i)
            if (fields[i] == "-") {
                dash = i;
                break;
            }
        if (dash == 0 || dash + 2 >= fields.size())
            return base::fail(base::Errc::invalid,
                              "mountinfo: malformed line \"" + std::string(line) + "\"");
        const std::string& fstype = fields[dash + 1];
        if (fstype != "cgroup" && fstype != "cgroup2") continue;
        MountEntry entry;
        entry.root = unescape_octal(fields[3]);
        entry.mount_point = unescape_octal(fields[4]);
        entry.fstype = fstype;
        for (auto opt : split(fields[5], ',')) entry.mount_options.emplace_back(opt);
        if (dash + 3 < fields.size())
            for (auto opt : split(fields[dash + 3], ',')) entry.super_options.emplace_back(opt);
        mounts.push_back(std::move(entry));
    }
    return mounts;
}

base::Result<std::map<std::string, std::string>> parse_proc_cgroup(std::string_view text) {
    std::map<std::string, std::string> paths;
    for (auto line : lines(text)) {
        auto first = line.find(':');
        auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
        if (second == std::string_view::npos)
            return base::fail(base::Errc::invalid,
                              "/proc/self/cgroup: malformed line \"" + std::string(line) + "\"");
        auto controllers = line.substr(first + 1, second - first - 1);
        std::string path(line.substr(second + 1));
        if (controllers.empty()) {
            paths[""] = path;
            continue;
        }
        for (auto c : split(controllers, ',')) paths[std::string(c)] = path;
    }
    return paths;
}

std::map<std::string, std::uint64_t, std::less<>> parse_keyed(std::string_view text) {
    std::map<std::string, std::uint64_t, std::less<>> values;
    for (auto line : lines(text)) {
        auto words = split_words(line);
        if (words.size() != 2) continue;
        std::uint64_t v = 0;
        auto [end, ec] = std::from_chars(words[1].data(), words[1].data() + words[1].size(), v);
        if (ec == std::errc() && end == words[1].data() + words[1].size()) values[words[0]] = v;
    }
    return values;
}

base::Result<std::uint64_t> parse_number(std::string_view text) {
    auto words = split_words(text);
    if (words.size() == 1 && words[0] == "max") return std::numeric_limits<std::uint64_t>::max();
    std::uint64_t v = 0;
    if (words.size() == 1) {
        const auto& w = words[0];
        auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
        if (ec == std::errc() && end == w.data() + w.size()) return v;
    }
    return base::fail(base::Errc::invalid, "\"" + std::string(text) + "\" is not a number");
}

base::Result<std::vector<pid_t>> parse_pids(std::string_view text) {
    std::vector<pid_t> pids;
    for (const auto& word : split_words(text)) {
        pid_t pid = 0;
        auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), pid);
        if (ec != std::errc() || end != word.data() + word.size() || pid <= 0)
            return base::fail(base::Errc::invalid, "cgroup.procs: \"" + word + "\" is not a pid");
        pids.push_back(pid);
    }
    return pids;
}

std::string join_rel(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (auto part : parts) {
        while (!part.empty() && part.front() == '/') part.remove_prefix(1);
        while (!part.empty() && part.back() == '/') part.remove_suffix(1);
        if (part.empty()) continue;
        if (!out.empty()) out += '/';
        out += part;
    }
    return out;
}

}  // namespace gaffer::environment::detail
