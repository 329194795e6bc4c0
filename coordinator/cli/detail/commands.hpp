// The commands behind `gaffer`, one function each. Each prints its result and returns the
// process exit code. Private to coordinator/cli.
#pragma once

#include <optional>
#include <string>

namespace gaffer::cli::detail {

struct Globals {
    std::string socket = "/run/gaffer/gaffer.sock";
    bool json = false;  // print the API's JSON as it came
};

int task_add(const Globals& g, const std::string& file);
int task_list(const Globals& g);
int task_show(const Globals& g, const std::string& name);
int task_remove(const Globals& g, const std::string& name);
struct InvokeArgs {
    std::string name;
    std::optional<std::string> payload;
    std::optional<std::string> payload_file;  // "-" is stdin
    bool async = false;
};
int task_invoke(const Globals& g, const InvokeArgs& args);
int task_logs(const Globals& g, const std::string& name, unsigned tail);
int invocation_show(const Globals& g, const std::string& id);
int env_list(const Globals& g);
int status(const Globals& g);

}  // namespace gaffer::cli::detail
