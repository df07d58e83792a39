// muse: a self-hosted multimodal reasoning assistant on llama.cpp.
// main() is the error boundary: input errors exit 1 with their message, runtime errors exit 3.
#include "cli/commands.h"
#include "cli/crash-report.h"
#include "engine/error.h"

#include <csignal>
#include <cstdio>

namespace {

// Ctrl-C asks the running generation to stop; a second Ctrl-C ends the process.
std::atomic<bool> * g_cancel_flag = nullptr;

void on_sigint(int) {
    if (g_cancel_flag && !g_cancel_flag->exchange(true)) {
        return;
    }
    std::_Exit(130);
}

}  // namespace

int main(int argc, char ** argv) {
    muse::cli::crash_report_install();  // first: a fault anywhere later is reported
    CLI::App app{ "muse — a self-hosted multimodal reasoning assistant" };
    app.require_subcommand(1);
    muse::cli::command_runner runner;
    muse::cli::run_command_add(app, runner);
    muse::cli::chat_command_add(app, runner);
    muse::cli::info_command_add(app, runner);
    muse::cli::pull_command_add(app, runner);
    muse::cli::keys_command_add(app, runner);
    muse::cli::serve_command_add(app, runner);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError & e) {
        return app.exit(e);
    }

    std::atomic<bool> cancel{ false };
    g_cancel_flag = &cancel;
    std::signal(SIGINT, on_sigint);
    std::signal(SIGTERM, on_sigint);  // muse serve stops cleanly under a service manager
    try {
        return runner.run ? runner.run(cancel) : 0;
    } catch (const muse::input_error & e) {
        fprintf(stderr, "error: %s\n", e.what());
        return 1;
    } catch (const std::exception & e) {
        fprintf(stderr, "error: %s\n", e.what());
        return 3;
    }
}
