#include <CLI/CLI.hpp>

#include <functional>
#include <iostream>

#include "coordinator/cli/cli.hpp"
#include "coordinator/cli/detail/commands.hpp"
#include "coordinator/cli/detail/device_cli.hpp"
#include "gaffer_build_config.hpp"

namespace gaffer::cli {

int run(int argc, char** argv) {
    using namespace detail;
    CLI::App app{"gaffer: the command-line client of the Gaffer coordinator (gafferd)", "gaffer"};
    app.require_subcommand(1);
    app.fallthrough();
    app.set_version_flag("--version", GAFFER_VERSION);

    Globals g;
    app.add_option("--socket", g.socket, "gafferd's API socket (env GAFFER_SOCKET)")
        ->envname("GAFFER_SOCKET")
        ->capture_default_str();
    app.add_flag("--json", g.json, "print the API's JSON instead of text");

    std::function<int()> action;
    auto leaf = [&](CLI::App* parent, const char* name, const char* help) {
        auto* sub = parent->add_subcommand(name, help);
        sub->fallthrough();
        return sub;
    };

    auto* task = leaf(&app, "task", "install, inspect, invoke and remove tasks");
    task->require_subcommand(1);
    std::string file, name, id;
    auto* add = leaf(task, "add", "install a task from a manifest, or replace it");
    add->add_option("FILE", file, "the manifest (JSON); - reads standard input")->required();
    add->callback([&] { action = [&] { return task_add(g, file); }; });

    leaf(task, "list", "list installed tasks")->callback([&] { action = [&] { return task_list(g); }; });

    auto* show = leaf(task, "show", "show one task and its manifest");
    show->add_option("NAME", name, "task name")->required();
    show->callback([&] { action = [&] { return task_show(g, name); }; });

    auto* remove = leaf(task, "remove", "remove a task; its running invocations are cancelled");
    remove->add_option("NAME", name, "task name")->required();
    remove->callback([&] { action = [&] { return task_remove(g, name); }; });

    InvokeArgs invoke_args;
    auto* invoke = leaf(task, "invoke", "invoke a task and print its response");
    invoke->add_option("NAME", invoke_args.name, "task name")->required();
    auto* payload = invoke->add_option("--payload", invoke_args.payload, "the event, as JSON (default {})");
    auto* payload_file = invoke->add_option("--payload-file", invoke_args.payload_file,
                                            "read the event from a file; - reads standard input");
    payload->excludes(payload_file);
    invoke->add_flag("--async", invoke_args.async, "queue it and print the invocation id");
    invoke->callback([&] { action = [&] { return task_invoke(g, invoke_args); }; });

    unsigned tail = 100;
    auto* logs = leaf(task, "logs", "print the end of a task's log");
    logs->add_option("NAME", name, "task name")->required();
    logs->add_option("--tail", tail, "number of lines")->capture_default_str()->check(CLI::Range(0u, 10000u));
    logs->callback([&] { action = [&] { return task_logs(g, name, tail); }; });

    auto* invocation = leaf(&app, "invocation", "inspect asynchronous invocations");
    invocation->require_subcommand(1);
    auto* inv_show = leaf(invocation, "show", "show an invocation's state and outcome");
    inv_show->add_option("ID", id, "invocation id")->required();
    inv_show->callback([&] { action = [&] { return invocation_show(g, id); }; });

    auto* env = leaf(&app, "env", "inspect execution environments");
    env->require_subcommand(1);
    leaf(env, "list", "list live environments")->callback([&] { action = [&] { return env_list(g); }; });

    leaf(&app, "status", "show the daemon's status")->callback([&] { action = [&] { return status(g); }; });

    DeviceCli device_args;
    add_device_commands(app, g, device_args, action);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "gaffer: " << e.what() << "\n(run 'gaffer --help' for usage)\n";
        return exit_usage;
    }
    if (!action) {
        std::cerr << "gaffer: no command given\n(run 'gaffer --help' for usage)\n";
        return exit_usage;
    }
    return action();
}

}  // namespace gaffer::cli
