// `muse help [COMMAND]` and `muse --version`.
#include "cli/commands.h"
#include "cli/suggest.h"
#include "engine/error.h"
#include "engine/system-info.h"

#include <cstdio>

namespace muse::cli {

std::string version_text() {
    return system_info_version(system_info_read_cpu());  // the versions; no kernels asked for
}

void help_command_add(CLI::App & app, command_runner & runner) {
    auto * cmd   = app.add_subcommand("help", "show the commands, or one command's options");
    auto   topic = std::make_shared<std::string>();
    cmd->add_option("command", *topic, "the command to explain");
    cmd->callback([&app, topic, &runner]() {
        runner.run = [&app, topic](std::atomic<bool> &) {
            // The formatter itself: App::help() would describe the chosen subcommand, `help`.
            if (topic->empty()) {
                fputs(app.get_formatter()->make_help(&app, "muse", CLI::AppFormatMode::Normal).c_str(), stdout);
                return 0;
            }
            std::vector<std::string> names;
            for (CLI::App * sub : app.get_subcommands([](CLI::App *) { return true; })) {
                if (sub->get_name() == *topic) {
                    fputs(sub->get_formatter()->make_help(sub, "muse " + sub->get_name(), CLI::AppFormatMode::Normal).c_str(),
                          stdout);
                    return 0;
                }
                names.push_back(sub->get_name());
            }
            const std::string near = closest_name(*topic, names);
            throw input_error("'" + *topic + "' is not a muse command" +
                              (near.empty() ? "" : " (did you mean '" + near + "'?)") + "; `muse help` lists them");
        };
    });
}

}  // namespace muse::cli
