// `muse run`: one prompt, streamed answer.
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/turn.h"
#include "engine/backend.h"
#include "engine/error.h"

#include <cstdio>

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
};

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
    cmd->callback([opts, &runner]() {
        runner.run = [opts](const std::atomic<bool> & cancel) {
            auto & o = *opts;
            if (o.prompt.empty() && o.prompt_file.empty()) {
                throw input_error("no prompt: pass -p TEXT or -f FILE");
            }
            const std::string text = o.prompt_file.empty() ? o.prompt : file_read(o.prompt_file, "prompt");
            backend be(o.model.verbose);
            auto    mdl = model_load(be, o.model);
            session ses(*mdl, context_params_make(o.model));

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
