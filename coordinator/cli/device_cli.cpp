#include "coordinator/cli/detail/device_cli.hpp"

#include <CLI/CLI.hpp>

namespace gaffer::cli::detail {
namespace {

CLI::App* leaf(CLI::App* parent, const char* name, const char* help) {
    auto* sub = parent->add_subcommand(name, help);
    sub->fallthrough();
    return sub;
}

CLI::App* group(CLI::App& app, const char* name, const char* help) {
    auto* sub = leaf(&app, name, help);
    sub->require_subcommand(1);
    return sub;
}

void add_thing(CLI::App* command, DeviceCli& a) {
    command->add_option("THING", a.thing, "the device's thing name")->required();
}

void add_shadow_target(CLI::App* command, DeviceCli& a) {
    command->add_option("THING", a.shadow.thing, "the device's thing name")->required();
    command->add_option("--name", a.shadow.name, "a named shadow (default: the classic shadow)");
}

}  // namespace

void add_device_commands(CLI::App& app, const Globals& g, DeviceCli& a, std::function<int()>& action) {
    auto* device = group(app, "device", "register devices, show them, rotate their credentials");

    auto* add = leaf(device, "add", "register a device and print its credentials (shown only once)");
    add->add_option("THING", a.add.thing, "thing name: 1 to 128 letters, digits, ':', '_', '-'")->required();
    // One value per occurrence: a vector option would otherwise swallow THING after it.
    add->add_option("--attribute", a.add.attributes, "an attribute KEY=VALUE (repeatable)")
        ->allow_extra_args(false);
    add->add_option("--group", a.add.groups, "a group the device belongs to (repeatable)")
        ->allow_extra_args(false);
    add->callback([&] { action = [&] { return device_add(g, a.add); }; });

    auto* list = leaf(device, "list", "list registered devices, ordered by thing name");
    list->add_option("--after", a.after, "start after this thing name (for paging)");
    list->add_option("--limit", a.limit, "at most this many devices")->capture_default_str()->check(
        CLI::Range(std::size_t{1}, std::size_t{1000}));
    list->callback([&] { action = [&] { return device_list(g, a.after, a.limit); }; });

    auto* show = leaf(device, "show", "show a device: presence, credentials, groups, shadows, attributes");
    add_thing(show, a);
    show->callback([&] { action = [&] { return device_show(g, a.thing); }; });

    auto* remove = leaf(device, "remove", "remove a device, its broker credentials and its shadows");
    add_thing(remove, a);
    remove->callback([&] { action = [&] { return device_remove(g, a.thing); }; });

    auto* credentials = leaf(device, "credentials", "rotate a device's password: the old one stops working");
    add_thing(credentials, a);
    credentials->callback([&] { action = [&] { return device_credentials(g, a.thing); }; });

    auto* shadow = group(app, "shadow", "read, update and delete device shadows (AWS IoT semantics)");
    auto* get = leaf(shadow, "get", "print a shadow document");
    add_shadow_target(get, a);
    get->callback([&] { action = [&] { return shadow_get(g, a.shadow); }; });

    auto* update = leaf(shadow, "update", "send an update request ({\"state\": {\"desired\": ...}})");
    add_shadow_target(update, a);
    auto* document = update->add_option("REQUEST", a.shadow.document, "the request as JSON; - reads standard input");
    auto* file = update->add_option("--file", a.shadow.file, "read the request from a file");
    document->excludes(file);
    update->callback([&] { action = [&] { return shadow_update(g, a.shadow); }; });

    auto* del = leaf(shadow, "delete", "delete a shadow");
    add_shadow_target(del, a);
    del->callback([&] { action = [&] { return shadow_delete(g, a.shadow); }; });

    auto* route = group(app, "route", "manage message routes (source, topic filter, target)");
    auto* route_add_cmd = leaf(route, "add", "add a route, e.g. device:sensor-1 'things/sensor-1/#' task:ingest");
    route_add_cmd->add_option("SOURCE", a.source, "device:THING, task:NAME or shadow")->required();
    route_add_cmd->add_option("FILTER", a.filter, "an MQTT topic filter")->required();
    route_add_cmd->add_option("TARGET", a.target, "device:THING, task:NAME or shadow")->required();
    route_add_cmd->callback([&] { action = [&] { return route_add(g, a.source, a.filter, a.target); }; });

    leaf(route, "list", "list routes")->callback([&] { action = [&] { return route_list(g); }; });

    auto* route_remove_cmd = leaf(route, "remove", "remove a route by id");
    route_remove_cmd->add_option("ID", a.route_id, "the route's id (see gaffer route list)")
        ->required()
        ->check(CLI::PositiveNumber);
    route_remove_cmd->callback([&] { action = [&] { return route_remove(g, a.route_id); }; });
}

}  // namespace gaffer::cli::detail
