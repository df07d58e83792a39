// `muse run`: one prompt, streamed answer.
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/agents-view.h"
#include "cli/turn.h"
#include "reason/modes.h"
#include "engine/backend.h"
#include "engine/error.h"

#include <cstdio>
#include <random>

namespace muse::cli {

struct run_options {
    model_options            model;
    generation_options       gen;
    std::string              prompt;
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
};

// --mode: the reasoning modes; several agents show as live lanes, then as a table.
static int run_reasoned(const run_options & o, session & ses, const chat_message & user,
                        const std::vector<media> & media_list, const std::atomic<bool> & cancel) {
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
    if (p.sampling.seed == 0xFFFFFFFF) {
        p.sampling.seed = std::random_device{}();
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
    out.content(result.content);
    for (const auto & tc : result.tool_calls) {
        printf("\n[tool call] %s(%s)", tc.name.c_str(), tc.arguments.c_str());
    }
    out.end();
    if (multi) {
        agents_table_print(is_tty(stdout) ? stdout : stderr, result);
    } else {
        fprintf(stderr, "%s: reasoning %d tok, answer %d tok, first token %.2f s, wall %.2f s\n",
                reason::reason_mode_name(p.mode), result.reasoning_tokens, result.answer_tokens, result.ttft_secs,
                result.wall_secs);
    }
    return result.cancelled ? 130 : 0;
}

void run_command_add(CLI::App & app, command_runner & runner) {
    auto * cmd  = app.add_subcommand("run", "generate an answer to one prompt");
    auto   opts = std::make_shared<run_options>();
    model_options_add(*cmd, opts->model);
    generation_options_add(*cmd, opts->gen);
    auto * p = cmd->add_option("-p,--prompt", opts->prompt, "the prompt");
    auto * f = cmd->add_option("-f,--file", opts->prompt_file, "read the prompt from a file");
    p->excludes(f);
    cmd->add_option("--image", opts->images, "an image for the prompt (repeatable)");
    cmd->add_option("--audio", opts->audio, "an audio clip for the prompt (repeatable)");
    cmd->add_flag("--raw", opts->raw, "complete the prompt as raw text, without the chat template");
    cmd->add_flag("--stats", opts->stats, "print token counts and speed to stderr");
    cmd->add_flag("--show-prompt", opts->show_prompt, "print the prompt the chat template rendered to stderr");
    auto & rp = opts->reason;
    cmd->add_option("--mode", opts->mode, "instant | thinking | contemplate | orchestrate")
        ->check(CLI::IsMember({ "instant", "thinking", "contemplate", "orchestrate" }));
    cmd->add_option("--agents", rp.agents, "contemplate: agents reasoning in parallel (1-16)")->check(CLI::Range(1, 16));
    cmd->add_option("--aggregate", opts->aggregate, "contemplate: vote | confidence | synthesize")
        ->check(CLI::IsMember({ "vote", "confidence", "synthesize" }));
    cmd->add_option("--temp-spread", rp.temperature_spread, "contemplate: spread of the agents' temperatures");
    cmd->add_flag("--perspectives", rp.perspectives, "contemplate: give each agent a different approach hint");
    cmd->add_option("--total-budget", rp.total_budget, "contemplate: generated tokens over all agents");
    cmd->add_option("--keep-percent", rp.keep_percent, "confidence: keep the most confident eta% of the traces");
    cmd->add_option("--warmup-agents", rp.warmup_agents, "confidence: agents that set the early-stop threshold");
    cmd->add_option("--conf-window", rp.confidence_window, "confidence: tokens per confidence window");
    cmd->add_option("--answer-field", opts->answer_field, "vote on this field of a JSON answer");
    cmd->add_option("--max-subtasks", rp.max_subtasks, "orchestrate: most sub-tasks in the plan")->check(CLI::Range(1, 16));
    cmd->callback([opts, &runner]() {
        runner.run = [opts](const std::atomic<bool> & cancel) {
            auto & o = *opts;
            if (o.prompt.empty() && o.prompt_file.empty()) {
                throw input_error("no prompt: pass -p TEXT or -f FILE");
            }
            const std::string text = o.prompt_file.empty() ? o.prompt : file_read(o.prompt_file, "prompt");
            backend be(o.model.verbose);
            auto    mdl = model_load(be, o.model);
            const int32_t n_seq = o.mode == "contemplate" ? o.reason.agents + 2 :
                                  o.mode == "orchestrate" ? o.reason.max_subtasks + 2 : 1;
            session ses(*mdl, context_params_make(o.model, n_seq));

            std::vector<media> media_list;
            chat_message       user;
            user.role = "user";
            for (const auto & path : o.images) {
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
            if (o.raw && !media_list.empty()) {
                throw input_error("--raw does not take images or audio; drop --raw to use the chat template");
            }

            if (!o.mode.empty() && !o.raw) {
                return run_reasoned(o, ses, user, media_list, cancel);
            }
            answer_printer out;
            turn_result    r;
            if (o.raw) {
                r = turn_run(ses, nullptr, text, {}, sequence_params_make(o.gen), &out, &cancel);
            } else {
                chat_request req;
                req.messages.push_back(user);
                chat_request_apply(req, o.gen);
                chat_prompt prompt = chat_format(*mdl, req, mdl->media_marker());
                if (o.show_prompt) {
                    fprintf(stderr, "%s\n", prompt.text().c_str());
                }
                r = turn_run(ses, &prompt, "", media_list, sequence_params_make(o.gen), &out, &cancel);
            }
            for (const auto & tc : r.parsed.tool_calls) {
                printf("\n[tool call] %s(%s)", tc.name.c_str(), tc.arguments.c_str());
            }
            out.end();
            if (o.stats || is_tty(stderr)) {
                fprintf(stderr, "%s\n", turn_summary(r).c_str());
            }
            return r.stats.reason == FINISH_REASON_CANCELLED ? 130 : 0;
        };
    });
}

}  // namespace muse::cli
