#pragma once
// The `muse` subcommands. Each registers itself on the CLI11 app and, when chosen, sets
// `runner.run`, which main() calls inside its error boundary.
#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>

namespace muse::cli {

struct command_runner {
    // Returns the process exit code. `cancel` turns true on Ctrl-C; a command that goes on
    // after one (muse chat) sets it back to false, so that the next Ctrl-C cancels again
    // instead of ending the process.
    std::function<int(std::atomic<bool> & cancel)> run;
};

void run_command_add(CLI::App & app, command_runner & runner);
void chat_command_add(CLI::App & app, command_runner & runner);
void info_command_add(CLI::App & app, command_runner & runner);
void pull_command_add(CLI::App & app, command_runner & runner);
void keys_command_add(CLI::App & app, command_runner & runner);
void audit_command_add(CLI::App & app, command_runner & runner);
void policy_command_add(CLI::App & app, command_runner & runner);
void serve_command_add(CLI::App & app, command_runner & runner);
void list_command_add(CLI::App & app, command_runner & runner);
void train_command_add(CLI::App & app, command_runner & runner);
void eval_command_add(CLI::App & app, command_runner & runner);
void help_command_add(CLI::App & app, command_runner & runner);

// "muse 0.1.0 (abc1234, llama.cpp de3ff81)"
std::string version_text();

}  // namespace muse::cli
