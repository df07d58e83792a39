// `muse eval`: accuracy, tokens and latency of each reasoning mode on a suite (src/eval).
//   muse eval -m muse-arith.gguf --suite eval/arith-hard.jsonl \
//             --modes instant,thinking:256,contemplate:8:vote,contemplate:8:confidence [--json out.json]
#include "cli/agent-tools.h"
#include "cli/agent-turn.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/terminal.h"
#include "engine/backend.h"
#include "engine/error.h"
#include "engine/system-info.h"
#include "eval/report.h"
#include "eval/runner.h"

#include <cstdio>
#include <fstream>
#include <optional>

namespace muse::cli {

namespace {

struct eval_cli_options {
    model_options            model;
    agent_options            agent;
    std::string              suite;
    std::string              modes = "instant,thinking";
    std::string              json_out;
    bool                     outcomes = false;
    int                      limit    = 0;
    eval::eval_options       eval;
    // The confidence aggregate's staging, for every confidence mode of the list.
    double                   consensus     = reason::reason_params{}.consensus;
    int32_t                  warmup_agents = 0;
    bool                     trace_stop    = false;
};

int eval_command(eval_cli_options & o, std::atomic<bool> & cancel) {
    std::vector<eval::eval_item> items = eval::suite_load(o.suite);
    if (o.limit > 0 && (size_t) o.limit < items.size()) items.resize((size_t) o.limit);
    o.eval.modes   = eval::eval_modes_parse(o.modes);
    int32_t agents = 1;
    bool    tools  = false;
    if (!(o.consensus > 0)) throw input_error("--consensus must be above 0 (above 1: every agent runs)");
    for (auto & m : o.eval.modes) {
        m.reason.consensus     = o.consensus;
        m.reason.warmup_agents = std::min(o.warmup_agents, m.reason.agents);
        m.reason.trace_stop    = o.trace_stop;
        if (m.reason.mode == reason::REASON_MODE_CONTEMPLATE) agents = std::max(agents, m.reason.agents);
        tools = tools || m.tools;
    }
    model_options_check(o.model);
    agent_options_resolve(o.agent);
    if (tools && o.agent.tools.empty()) throw input_error("a +tools mode needs --tools (e.g. --tools python)");

    std::optional<agent_setup> setup;
    if (!o.agent.tools.empty()) {
        setup = agent_setup_make(o.agent);
        if (setup->started.python) o.eval.tools.push_back(setup->started.python);
        for (const auto & t : setup->started.mcp) o.eval.tools.push_back(t);
        for (const auto & t : setup->started.web) o.eval.tools.push_back(t);
        o.eval.tool_context.work_dir = setup->workdir;
        o.eval.tool_context.images   = setup->images;
    }
    backend be(o.model.verbose);
    auto    mdl = model_load(be, o.model);
    model_options mo = o.model;
    if (mo.n_ctx == 0) mo.n_ctx = std::max(4096, (agents + 1) * (o.eval.max_tokens + 256));
    session ses(*mdl, context_params_make(mo, agents + 2));

    const bool tty = is_tty(stderr);
    progress_throttle throttle(tty, 15);
    const auto reports = eval::eval_run(
        ses, *mdl, items, o.eval,
        [&](const eval::eval_progress & p) {
            if (!throttle.due(p.done >= p.total)) return;
            fprintf(stderr, "%s%zu/%zu  %s: %d/%d right%s", tty ? "\r\033[K" : "", p.done, p.total, p.mode.c_str(),
                    p.correct, p.answered, tty ? "" : "\n");
            fflush(stderr);
        },
        &cancel);
    if (tty) fputc('\n', stderr);
    const system_info si = system_info_read_cpu();
    printf("%s on %s (%zu items x %d, %s)\n\n%s", mdl->info().name.empty() ? o.model.model_path.c_str() : mdl->info().name.c_str(),
           o.suite.c_str(), items.size(), o.eval.repeat, si.cpu_model.c_str(), eval::report_table(reports).c_str());
    if (!o.json_out.empty()) {
        eval::report_context ctx{ o.model.model_path, o.suite, si.cpu_model, (int) items.size(), o.eval.repeat };
        std::ofstream        out(o.json_out);
        if (!out) throw input_error("cannot write " + o.json_out + "; check the folder exists and is writable");
        out << eval::report_json(ctx, reports, o.outcomes) << "\n";
    }
    return cancel.load() ? 130 : 0;
}

}  // namespace

void eval_command_add(CLI::App & app, command_runner & runner) {
    auto   o   = std::make_shared<eval_cli_options>();
    auto * cmd = app.add_subcommand("eval", "measure accuracy, tokens and latency of reasoning modes on a JSONL suite");
    model_options_add(*cmd, o->model);
    cmd->add_option("--suite", o->suite, "The suite: one {\"question\", \"answer\", \"checker\"} object per line (docs/eval.md)")
        ->required();
    cmd->add_option("--modes", o->modes,
                    "Comma-separated: instant, thinking[:BUDGET], contemplate:N[:vote|confidence[:KEEP%]|synthesize], "
                    "each optionally +tools")
        ->capture_default_str();
    cmd->add_option("--repeat", o->eval.repeat, "Answer every item this many times (other seeds)")->capture_default_str();
    cmd->add_option("--max-tokens", o->eval.max_tokens, "Tokens per agent / pass")->capture_default_str();
    cmd->add_option("--temperature", o->eval.temperature, "Sampling temperature")->capture_default_str();
    cmd->add_option("--seed", o->eval.seed, "Base seed; item i, repeat r gets its own")->capture_default_str();
    cmd->add_option("--limit", o->limit, "Only the first N items (0: all)")->capture_default_str();
    cmd->add_option("--json", o->json_out, "Also write the results as JSON to this file");
    cmd->add_flag("--outcomes", o->outcomes, "With --json: every item's outcome too");
    cmd->add_option("--consensus", o->consensus,
                    "confidence modes: the share of the finished agents (at least 2) that agree and end it (above 1: every agent runs)")
        ->capture_default_str();
    cmd->add_option("--warmup-agents", o->warmup_agents, "confidence modes: agents of the first stage, W; then 2W, 4W, ... (0: 2)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_flag("--trace-stop", o->trace_stop, "confidence modes: also stop later agents under the first stage's threshold");
    cmd->add_option("--tools", o->agent.tools, "Tools for the +tools modes, e.g. python")->delimiter(',');
    cmd->callback([o, &runner] { runner.run = [o](std::atomic<bool> & cancel) { return eval_command(*o, cancel); }; });
}

}  // namespace muse::cli
