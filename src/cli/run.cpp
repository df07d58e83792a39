// `muse run`: one prompt, streamed answer.
#include "cli/commands.h"
#include "cli/agent-turn.h"
#include "agent/tool-names.h"
#include "cli/options.h"
#include "cli/policy-options.h"
#include "cli/agents-view.h"
#include "cli/turn.h"
#include "reason/modes.h"
#include "engine/backend.h"
#include "engine/error.h"
#include "extract/picture.h"
#include "agent/memory-prompt.h"
#include "store/database.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <unistd.h>

namespace muse::cli {

struct run_options {
    model_options            model;
    generation_options       gen;
    std::string              prompt;
    std::vector<std::string> prompt_words;  // positional: muse run -m M "why is the sky blue?"
    std::string              prompt_file;
    std::vector<std::string> images;
    std::vector<std::string> audio;
    bool                     raw   = false;
    bool                     stats = false;
    bool                     show_prompt = false;
    std::string              mode;  // empty: a single pass (thinking unless --no-think)
    reason::reason_params    reason;
    std::string              aggregate = "vote";
    std::string              answer_field;
    agent_options            agent;  // --tools python,artifacts,...: the agent loop
    policy_options           policy;
};

static std::string stdin_read() {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

// -p TEXT, the words after the options, -f FILE (- for stdin), or stdin when it is not a terminal.
static std::string prompt_text(const run_options & o) {
    std::string words;
    for (const auto & w : o.prompt_words) words += (words.empty() ? "" : " ") + w;
    const int given = !o.prompt.empty() + !words.empty() + !o.prompt_file.empty();
    if (given > 1) {
        throw input_error("the prompt is given twice: use one of -p TEXT, -f FILE, or the prompt after the options");
    }
    if (!o.prompt.empty()) return o.prompt;
    if (!words.empty()) return words;
    if (o.prompt_file == "-") return stdin_read();
    if (!o.prompt_file.empty()) return file_read(o.prompt_file, "prompt (-f)");
    if (!isatty(STDIN_FILENO)) {
        std::string text = stdin_read();
        if (!text.empty()) return text;
    }
    throw input_error("no prompt: give it after the options (muse run -m MODEL \"Why is the sky blue?\"), with -p TEXT, "
                      "-f FILE, or on stdin (echo hi | muse run -m MODEL)");
}

// The mode a run without --mode amounts to, for its summary line.
static std::string plain_mode(const model & m, const run_options & o) {
    if (o.raw) return "raw";
    return m.info().has_reasoning && !o.gen.no_think ? "thinking" : "instant";
}

// --mode: the reasoning modes; several agents show as live lanes, then as a table.
static int run_reasoned(const run_options & o, session & ses, const model & mdl, const chat_message & user,
                        const std::vector<media> & media_list, const std::atomic<bool> & cancel,
                        const safety::checker * policy) {
    chat_request req;
    req.messages.push_back(user);
    chat_request_apply(req, o.gen);
    reason::reason_params p = o.reason;
    p.mode                  = reason::reason_mode_parse(o.mode);
    p.aggregate             = reason::aggregate_kind_parse(o.aggregate);
    p.sampling              = o.gen.sampling;
    p.max_tokens            = o.gen.max_tokens > 0 ? o.gen.max_tokens : 1024;
    p.think_budget          = o.gen.think_budget;
    p.stop                  = o.gen.stop;
    p.answer.json_field     = o.answer_field;
    p.answer.json           = !o.gen.json_schema.empty();
    if (o.show_prompt) {
        // The prompt every agent starts from; modes that add to it (perspectives, the planner's
        // plan) append their parts after it.
        fprintf(stderr, "%s\n", chat_format(mdl, req, mdl.media_marker()).text().c_str());
    }
    const bool  multi = p.mode == reason::REASON_MODE_CONTEMPLATE || p.mode == reason::REASON_MODE_ORCHESTRATE;
    agent_lanes lanes(multi && is_tty(stderr));
    answer_printer out;
    auto result = reason::reason_run(ses, req, media_list, p, [&](const reason::agent_progress & pr) {
        if (multi) {
            lanes.on_progress(pr);
        } else if (pr.in_reasoning) {
            out.reasoning(pr.event->text);
        }
    }, &cancel);
    lanes.clear();
    // The agents' answer arrives whole: the policy checks it whole before it is shown.
    const safety::verdict v = policy_check_text(policy, safety::CHECK_POINT_OUTPUT, result.reasoning + "\n" + result.content, "cli.run");
    if (v.blocked()) {
        out.end();
        policy_stop_print(v, true);
    } else {
        out.content(result.content);
        if (!v.note_suffix().empty()) out.content(v.note_suffix());
        for (const auto & tc : result.tool_calls) {
            printf("\n[tool call] %s(%s)", tc.name.c_str(), tc.arguments.c_str());
        }
        out.end();
    }
    if (multi) {
        agents_table_print(is_tty(stdout) ? stdout : stderr, result);
    }
    if (o.stats || is_tty(stderr)) {
        run_summary s;
        s.mode             = reason::reason_mode_name(p.mode);
        s.prompt_tokens    = result.prompt_tokens;
        s.prompt_shared    = multi;
        s.reasoning_tokens = result.reasoning_tokens;
        s.answer_tokens    = result.answer_tokens;
        s.ttft_secs        = result.ttft_secs;
        s.wall_secs        = result.wall_secs;
        s.decode_secs      = result.wall_secs - result.ttft_secs;
        s.finish           = result.cancelled ? "cancelled" : multi ? "" : finish_reason_name(result.finish);
        if (multi && p.mode == reason::REASON_MODE_CONTEMPLATE) s.agreement = result.agreement;
        s.seed = o.stats ? (int64_t) p.sampling.seed : -1;
        fprintf(stderr, "%s\n", summary_line(s).c_str());
    }
    return result.cancelled ? 130 : 0;
}

// --tools NAMES: the agent loop runs the calls and generates again until an answer.
static int run_agent(run_options & o, session & ses, const model & mdl, const chat_message & user,
                     std::vector<media> & media_list, const agent_setup & setup, std::atomic<bool> & cancel) {
    chat_request req;
    req.messages.push_back(user);
    std::string forced;
    const std::string & tc = o.agent.tool_choice;
    // A forced first call gets its reasoning budget like any constrained answer.
    req.tool_choice = tc.empty() || tc == "auto" ? CHAT_TOOL_CHOICE_AUTO : tc == "none" ? CHAT_TOOL_CHOICE_NONE : CHAT_TOOL_CHOICE_REQUIRED;
    chat_request_apply(req, o.gen);
    if (setup.db && std::find(o.agent.tools.begin(), o.agent.tools.end(), "memory") != o.agent.tools.end()) {
        const auto used = agent::memory_prompt_apply(*setup.db, setup.user_id, req, nullptr);
        for (const auto & m : used) fprintf(stderr, "memory: using %s \"%s\"\n", m.id.c_str(), m.text.c_str());
    }
    if (tc != "" && tc != "auto" && tc != "none" && tc != "required") {
        forced          = tc;
        req.tool_choice = CHAT_TOOL_CHOICE_AUTO;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto r = agent_turn_run(ses, mdl, std::move(req), media_list, sequence_params_make(o.gen), o.agent, setup, forced, &cancel);
    const auto & oc = r.outcome;
    if (o.stats || is_tty(stderr)) {
        fprintf(stderr, "agent | %d steps | %zu tool calls | prompt %d tok | generated %d tok | wall %.2f s | %s | files %s\n",
                oc.steps, oc.calls.size(), oc.prompt_tokens, oc.completion_tokens,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), agent::loop_stop_name(oc.stop),
                r.workdir.c_str());
    }
    if (oc.stop == agent::LOOP_STOP_MAX_STEPS) {
        fprintf(stderr, "note: the turn ended after --max-steps %d steps without an answer\n", o.agent.max_steps);
    }
    for (const auto & c : oc.pending_calls) printf("\n[tool call] %s(%s)", c.name.c_str(), c.arguments.c_str());
    if (!oc.pending_calls.empty()) printf("\n");
    return oc.stop == agent::LOOP_STOP_CANCELLED ? 130 : 0;
}

void run_command_add(CLI::App & app, command_runner & runner) {
    auto * cmd  = app.add_subcommand("run", "generate an answer to one prompt");
    auto   opts = std::make_shared<run_options>();
    model_options_add(*cmd, opts->model);
    generation_options_add(*cmd, opts->gen);
    auto * p = cmd->add_option("-p,--prompt", opts->prompt, "the prompt");
    auto * f = cmd->add_option("-f,--file", opts->prompt_file, "read the prompt from a file (-: from stdin)");
    cmd->add_option("PROMPT", opts->prompt_words, "the prompt, after the options (or -p, -f, or stdin)");
    p->excludes(f);
    // One value per flag: `--image a.png "What is this?"` keeps the prompt a prompt.
    cmd->add_option("--image", opts->images, "an image for the prompt (repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--audio", opts->audio, "an audio clip for the prompt (repeatable)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    agent_options_add(*cmd, opts->agent, true);
    policy_options_add(cmd, opts->policy);
    cmd->add_flag("--raw", opts->raw, "complete the prompt as raw text, without the chat template");
    cmd->add_flag("--stats", opts->stats, "print token counts, speed and the seed to stderr");
    cmd->add_flag("--show-prompt", opts->show_prompt, "print the prompt the chat template rendered to stderr");
    auto & rp = opts->reason;
    cmd->add_option("--mode", opts->mode,
                    "instant | thinking | contemplate | orchestrate (default: one pass, thinking where the model can)")
        ->check(CLI::IsMember({ "instant", "thinking", "contemplate", "orchestrate" }));
    cmd->add_option("--agents", rp.agents, "contemplate: agents reasoning in parallel (1-16)")
        ->check(CLI::Range(1, 16))
        ->capture_default_str();
    cmd->add_option("--aggregate", opts->aggregate, "contemplate: vote | confidence | synthesize")
        ->check(CLI::IsMember({ "vote", "confidence", "synthesize" }))
        ->capture_default_str();
    cmd->add_option("--temp-spread", rp.temperature_spread, "contemplate: spread of the agents' temperatures (0-2)")
        ->check(CLI::Range(0.0f, 2.0f))
        ->capture_default_str();
    cmd->add_flag("--perspectives", rp.perspectives, "contemplate: give each agent a different approach hint");
    cmd->add_option("--total-budget", rp.total_budget, "contemplate: generated tokens over all agents (-1: none)")
        ->check(CLI::Range(-1, 1 << 30) & !CLI::IsMember({ 0 }))
        ->capture_default_str();
    cmd->add_option("--keep-percent", rp.keep_percent, "confidence: keep the most confident eta% of the traces (0-100]")
        ->check(CLI::Range(1e-9, 100.0))
        ->capture_default_str();
    cmd->add_option("--warmup-agents", rp.warmup_agents, "confidence: agents of the first stage, W; then 2W, 4W, ... start while they disagree (0: 2)")
        ->check(CLI::Range(0, 16))
        ->capture_default_str();
    cmd->add_option("--consensus", rp.consensus, "confidence: the share of the finished agents (at least 2) that agree and end it (above 1: every agent runs)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_flag("--trace-stop", rp.trace_stop, "confidence: also stop later agents whose window confidence falls under the first stage's threshold (DeepConf online)");
    cmd->add_option("--conf-window", rp.confidence_window, "confidence: tokens per confidence window")
        ->check(CLI::Range(1, 1 << 20))
        ->capture_default_str();
    cmd->add_option("--answer-field", opts->answer_field, "vote on this field of a JSON answer");
    cmd->add_option("--max-subtasks", rp.max_subtasks, "orchestrate: most sub-tasks in the plan (1-16)")
        ->check(CLI::Range(1, 16))
        ->capture_default_str();
    cmd->callback([opts, &runner]() {
        runner.run = [opts](std::atomic<bool> & cancel) {
            auto & o = *opts;
            // Every input is checked before the model loads.
            const std::string text = prompt_text(o);
            // --tools NAMES (tool_set_names()) runs them; any other value is a
            // file of tool definitions the model may call (shown, not run).
            if (agent::tool_set_list(o.gen.tools_file, &o.agent.tools)) {
                o.gen.tools_file.clear();
            } else if (!o.gen.tools_file.empty() && o.gen.tools_file.find_first_of("/.") == std::string::npos &&
                       !std::filesystem::exists(o.gen.tools_file)) {
                throw input_error("--tools " + o.gen.tools_file + ": not a file, and not only tool names; the tools muse "
                                  "runs are " + agent::tool_set_names_text() + " (comma-separated), or give a JSON file of "
                                  "tool definitions");
            }
            agent_options_resolve(o.agent);
            if (!o.agent.mcp_file.empty() && std::find(o.agent.tools.begin(), o.agent.tools.end(), "mcp") == o.agent.tools.end()) {
                throw input_error("--mcp " + o.agent.mcp_file + " needs --tools mcp (with any other tools: --tools python,mcp)");
            }
            if (!o.agent.tools.empty() && (o.raw || !o.mode.empty())) {
                throw input_error(std::string("--tools ") + (o.raw ? "does not take --raw" : "runs one pass: drop --mode"));
            }
            if (!o.agent.tool_choice.empty() && o.agent.tools.empty() && o.gen.tools_file.empty()) {
                throw input_error("--tool-choice needs --tools (names like python,artifacts, or a file of tool definitions)");
            }
            model_options_check(o.model);
            generation_options_check(o.gen);
            for (const auto & path : o.images) input_file_check(path, "--image");
            for (const auto & path : o.audio) input_file_check(path, "--audio");
            if (o.raw && (!o.images.empty() || !o.audio.empty())) {
                throw input_error("--raw does not take images or audio; drop --raw to use the chat template");
            }
            const bool vision_tools = std::find(o.agent.tools.begin(), o.agent.tools.end(), "vision") != o.agent.tools.end();
            // With the seeing tools, a model that cannot see still takes images: for read_text.
            if ((!o.audio.empty() || (!o.images.empty() && !vision_tools)) && o.model.mmproj_path.empty()) {
                throw input_error(std::string(o.images.empty() ? "--audio" : "--image") +
                                  " needs the model's projector: add --mmproj MMPROJ.gguf (the mmproj file published "
                                  "with " + o.model.model_path + ")");
            }
            if (o.reason.warmup_agents > o.reason.agents) {
                throw input_error("--warmup-agents " + std::to_string(o.reason.warmup_agents) + " is more than --agents " +
                                  std::to_string(o.reason.agents));
            }
            // The prompt meets the policy before anything loads: a refused one costs no model load.
            if (!o.policy.guard_model.empty()) gguf_file_check(o.policy.guard_model, "guard model");
            backend              be(o.model.verbose);
            const policy_runtime policy = policy_runtime_make(o.policy, be, o.model.n_threads);
            if (const safety::verdict in = policy_check_text(policy.checker.get(), safety::CHECK_POINT_INPUT, text, "cli.run");
                in.blocked()) {
                policy_stop_print(in, false);
                return 0;
            }

            // The tools start before the model loads: a bad --mcp file or a missing sandbox fails fast.
            std::optional<agent_setup> setup;
            if (!o.agent.tools.empty()) {
                setup         = agent_setup_make(o.agent);
                setup->policy = policy.checker.get();
            }
            auto    mdl = model_load(be, o.model);
            reasoning_options_note(*mdl, o.gen, o.mode);
            const int32_t n_seq = o.mode == "contemplate" ? o.reason.agents + 2 :
                                  o.mode == "orchestrate" ? o.reason.max_subtasks + 2 : 1;
            session ses(*mdl, context_params_make(o.model, n_seq));
            context_size_note(o.model, ses);

            std::vector<media> media_list;
            chat_message       user;
            user.role = "user";
            for (const auto & path : o.images) {
                if (setup) {
                    std::ifstream in(path, std::ios::binary);
                    std::string   bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
                    const std::string kind = extract::picture_sniff(bytes);
                    if (kind.empty()) throw input_error("--image " + path + ": not a PNG, JPEG, BMP or GIF image");
                    const int32_t n = setup->images->add(std::filesystem::path(path).filename().string(), "image/" + kind, bytes);
                    if (!mdl->projector()) {
                        user.parts.push_back({ CHAT_PART_TYPE_TEXT,
                                               "[image " + std::to_string(n) + ": this model cannot see images; read_text reads the text in it]", 0 });
                        continue;
                    }
                }
                media_list.push_back(media::from_file(mdl->projector(), path));
                user.parts.push_back({ CHAT_PART_TYPE_MEDIA, "", media_list.size() - 1 });
            }
            for (const auto & path : o.audio) {
                media_list.push_back(media::from_file(mdl->projector(), path));
                user.parts.push_back({ CHAT_PART_TYPE_MEDIA, "", media_list.size() - 1 });
            }
            if (user.parts.empty()) {
                user.content = text;
            } else {
                user.parts.push_back({ CHAT_PART_TYPE_TEXT, text, 0 });
            }

            if (!o.mode.empty() && !o.raw) {
                return run_reasoned(o, ses, *mdl, user, media_list, cancel, policy.checker.get());
            }
            if (setup) return run_agent(o, ses, *mdl, user, media_list, *setup, cancel);
            answer_printer out;
            turn_result    r;
            if (o.raw) {
                if (o.show_prompt) fprintf(stderr, "%s\n", text.c_str());
                r = turn_run(ses, nullptr, text, {}, sequence_params_make(o.gen), &out, &cancel, nullptr, policy.checker.get());
            } else {
                chat_request req;
                req.messages.push_back(user);
                chat_request_apply(req, o.gen);
                chat_prompt prompt = chat_format(*mdl, req, mdl->media_marker());
                if (o.show_prompt) {
                    fprintf(stderr, "%s\n", prompt.text().c_str());
                }
                r = turn_run(ses, &prompt, "", media_list, sequence_params_make(o.gen), &out, &cancel, nullptr, policy.checker.get());
            }
            if (r.stopped.action != safety::POLICY_ACTION_ALLOW || !r.stopped.category.empty()) {
                policy_audit(r.stopped, safety::CHECK_POINT_OUTPUT, "cli.run", r.raw);
            }
            if (r.stopped.blocked()) {
                out.end();
                policy_stop_print(r.stopped, true);
                return 0;
            }
            if (!r.stopped.note_suffix().empty()) out.content(r.stopped.note_suffix());
            for (const auto & tc : r.parsed.tool_calls) {
                printf("\n[tool call] %s(%s)", tc.name.c_str(), tc.arguments.c_str());
            }
            out.end();
            if (o.stats || is_tty(stderr)) {
                fprintf(stderr, "%s\n", turn_summary(r, plain_mode(*mdl, o), o.stats ? (int64_t) o.gen.sampling.seed : -1).c_str());
            }
            if (r.stats.reason == FINISH_REASON_ERROR) {
                fprintf(stderr, "error: %s; check --grammar or --json-schema\n", r.stats.error.c_str());
                return 1;
            }
            return r.stats.reason == FINISH_REASON_CANCELLED ? 130 : 0;
        };
    });
}

}  // namespace muse::cli
