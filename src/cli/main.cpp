// muse: a self-hosted multimodal reasoning assistant on llama.cpp.
// main() is the error boundary: input errors (a bad flag, file or prompt) exit 1 with their
// message, runtime errors exit 3.
#include "cli/commands.h"
#include "cli/crash-report.h"
#include "cli/suggest.h"
#include "engine/error.h"

#include <csignal>
#include <cstdio>
#include <cstring>

namespace {

// Ctrl-C asks the running generation to stop; a second one before the command has taken the
// first (set the flag back) ends the process.
std::atomic<bool> * g_cancel_flag = nullptr;

void on_sigint(int) {
    if (g_cancel_flag && !g_cancel_flag->exchange(true)) {
        return;
    }
    std::_Exit(130);
}

std::vector<std::string> command_names(CLI::App & app) {
    std::vector<std::string> names;
    for (const CLI::App * sub : app.get_subcommands([](CLI::App *) { return true; })) {
        names.push_back(sub->get_name());
    }
    return names;
}

std::vector<std::string> flag_names(const CLI::App & cmd) {
    std::vector<std::string> names;
    for (const CLI::Option * o : cmd.get_options()) {
        for (const auto & l : o->get_lnames()) names.push_back("--" + l);
        for (const auto & s : o->get_snames()) names.push_back("-" + s);
    }
    return names;
}

// `muse frob`: git's habit — say it is not a command, and the closest one.
int unknown_command(CLI::App & app, const std::string & given) {
    const std::string near = muse::cli::closest_name(given, command_names(app));
    fprintf(stderr, "error: '%s' is not a muse command%s; `muse help` lists them\n", given.c_str(),
            near.empty() ? "" : (" (did you mean '" + near + "'?)").c_str());
    return 1;
}

// A CLI11 parse error as muse says errors: what was wrong, the closest flag for an unknown one,
// and where the help is. Every parse error is bad input: exit 1.
int parse_error(CLI::App & app, const CLI::ParseError & e, int argc, char ** argv) {
    CLI::App * cmd = &app;
    for (CLI::App * sub : app.get_subcommands()) cmd = sub;  // the one chosen, if any
    std::string hint;
    if (dynamic_cast<const CLI::ExtrasError *>(&e)) {
        const auto known = flag_names(*cmd);
        for (int i = 1; i < argc && hint.empty(); ++i) {
            std::string arg = argv[i];
            if (arg.size() < 2 || arg[0] != '-' || arg == "--") continue;
            arg = arg.substr(0, arg.find('='));
            if (std::find(known.begin(), known.end(), arg) != known.end()) continue;
            const std::string near = muse::cli::closest_name(arg, known);
            if (!near.empty()) hint = "did you mean " + near + "? ";
        }
    }
    const std::string help = cmd == &app ? "muse --help" : "muse " + cmd->get_name() + " --help";
    fprintf(stderr, "error: %s\n       %s`%s` lists every option\n", e.what(), hint.c_str(), help.c_str());
    return 1;
}

}  // namespace

int main(int argc, char ** argv) {
    muse::cli::crash_report_install();  // first: a fault anywhere later is reported
    CLI::App app{ "muse — a self-hosted multimodal reasoning assistant" };
    app.require_subcommand(1);
    app.set_version_flag("--version", std::function<std::string()>(muse::cli::version_text));
    app.footer("Run `muse help COMMAND` (or `muse COMMAND --help`) for a command's options.");
    muse::cli::command_runner runner;
    muse::cli::run_command_add(app, runner);
    muse::cli::chat_command_add(app, runner);
    muse::cli::info_command_add(app, runner);
    muse::cli::list_command_add(app, runner);
    muse::cli::pull_command_add(app, runner);
    muse::cli::keys_command_add(app, runner);
    muse::cli::audit_command_add(app, runner);
    muse::cli::policy_command_add(app, runner);
    muse::cli::serve_command_add(app, runner);
    muse::cli::train_command_add(app, runner);
    muse::cli::eval_command_add(app, runner);
    muse::cli::help_command_add(app, runner);

    if (argc > 1 && argv[1][0] != '-') {
        const auto names = command_names(app);
        if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
            return unknown_command(app, argv[1]);
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp & e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp & e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion & e) {
        return app.exit(e);
    } catch (const CLI::RequiredError & e) {
        if (app.get_subcommands().empty()) {  // `muse` alone: the list of commands
            fputs(app.help().c_str(), stderr);
            return 1;
        }
        return parse_error(app, e, argc, argv);
    } catch (const CLI::ParseError & e) {
        return parse_error(app, e, argc, argv);
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
