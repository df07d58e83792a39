#pragma once
// The `muse` subcommands. Each registers itself on the CLI11 app and, when chosen, sets
// `runner.run`, which main() calls inside its error boundary.
#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>

namespace muse::cli {

struct command_runner {
    // Returns the process exit code. `cancel` turns true on Ctrl-C.
    std::function<int(const std::atomic<bool> & cancel)> run;
};

void run_command_add(CLI::App & app, command_runner & runner);
void chat_command_add(CLI::App & app, command_runner & runner);
void info_command_add(CLI::App & app, command_runner & runner);
void pull_command_add(CLI::App & app, command_runner & runner);
void keys_command_add(CLI::App & app, command_runner & runner);
void serve_command_add(CLI::App & app, command_runner & runner);

}  // namespace muse::cli
