// `muse chat`: a multi-turn conversation on the terminal.
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/turn.h"
#include "engine/backend.h"
#include "engine/error.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

namespace muse::cli {

struct chat_options {
    model_options      model;
    generation_options gen;
};

static const char * chat_help =
    "commands: /image PATH  attach an image to the next message\n"
    "          /audio PATH  attach an audio clip to the next message\n"
    "          /reset       forget the conversation\n"
    "          /save FILE   save the conversation as JSON\n"
    "          /exit        leave (or Ctrl-D)\n";

static void conversation_save(const std::vector<chat_message> & msgs, const std::string & path) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto & m : msgs) {
        nlohmann::json j = { { "role", m.role } };
        std::string    text = m.content;
        int            n_media = 0;
        for (const auto & p : m.parts) {
            if (p.type == CHAT_PART_TYPE_TEXT) text += p.text;
            else n_media++;
        }
        j["content"] = text;
        if (n_media) j["media_count"] = n_media;
        if (!m.reasoning.empty()) j["reasoning_content"] = m.reasoning;
        if (!m.tool_calls.empty()) {
            j["tool_calls"] = nlohmann::json::array();
            for (const auto & tc : m.tool_calls) {
                j["tool_calls"].push_back({ { "id", tc.id }, { "type", "function" },
                                            { "function", { { "name", tc.name }, { "arguments", tc.arguments } } } });
            }
        }
        arr.push_back(j);
    }
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        if (!out) throw input_error(path + ": cannot write here; choose another path");
        out << arr.dump(2) << "\n";
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        throw input_error(path + ": cannot write here; choose another path");
    }
}

void chat_command_add(CLI::App & app, command_runner & runner) {
    auto * cmd  = app.add_subcommand("chat", "talk with a model, turn by turn");
    auto   opts = std::make_shared<chat_options>();
    model_options_add(*cmd, opts->model);
    generation_options_add(*cmd, opts->gen);
    cmd->callback([opts, &runner]() {
        runner.run = [opts](const std::atomic<bool> & cancel) {
            auto & o = *opts;
            model_options_check(o.model);  // -m NAME, and every file the options name, before the load
            generation_options_check(o.gen);
            backend be(o.model.verbose);
            auto    mdl = model_load(be, o.model);
            reasoning_options_note(*mdl, o.gen, "");
            // Two sequences: the turn, and the previous turn's prompt it shares a prefix with.
            session              ses(*mdl, context_params_make(o.model, 2));
            context_size_note(o.model, ses);
            reason::prompt_cache cache(ses);
            const bool tty = is_tty(stdin);
            if (tty) fputs(chat_help, stderr);

            std::vector<chat_message> history;
            std::vector<media>        media_list;   // every media item the history refers to
            std::vector<size_t>       attached;      // media for the next user message
            std::string               line;
            while (true) {
                if (tty) fputs("\n> ", stdout), fflush(stdout);
                if (!std::getline(std::cin, line)) break;
                if (line.empty()) continue;
                try {
                    if (line == "/exit" || line == "/quit") break;
                    if (line == "/help") { fputs(chat_help, stderr); continue; }
                    if (line == "/reset") {
                        history.clear(); media_list.clear(); attached.clear(); cache.clear();
                        fputs("(conversation cleared)\n", stderr);
                        continue;
                    }
                    if (line.rfind("/save ", 0) == 0) {
                        conversation_save(history, line.substr(6));
                        fprintf(stderr, "(saved %zu messages to %s)\n", history.size(), line.substr(6).c_str());
                        continue;
                    }
                    if (line.rfind("/image ", 0) == 0 || line.rfind("/audio ", 0) == 0) {
                        media_list.push_back(media::from_file(mdl->projector(), line.substr(7)));
                        attached.push_back(media_list.size() - 1);
                        fprintf(stderr, "(attached %s)\n", line.substr(7).c_str());
                        continue;
                    }
                    if (line[0] == '/') {
                        fprintf(stderr, "unknown command %s\n%s", line.c_str(), chat_help);
                        continue;
                    }
                    chat_message user;
                    user.role = "user";
                    if (attached.empty()) {
                        user.content = line;
                    } else {
                        for (size_t i : attached) user.parts.push_back({ CHAT_PART_TYPE_MEDIA, "", i });
                        user.parts.push_back({ CHAT_PART_TYPE_TEXT, line, 0 });
                    }
                    history.push_back(user);

                    chat_request req;
                    req.messages = history;
                    chat_request_apply(req, o.gen);
                    // The template sees media in order of appearance: pass exactly those, in that order.
                    std::vector<media> turn_media;
                    for (auto & m : req.messages) {
                        for (auto & p : m.parts) {
                            if (p.type == CHAT_PART_TYPE_MEDIA) {
                                turn_media.push_back(media::from_file(mdl->projector(), media_list[p.media_index].origin()));
                                p.media_index = turn_media.size() - 1;
                            }
                        }
                    }
                    chat_prompt prompt = chat_format(*mdl, req, mdl->media_marker());
                    answer_printer out;
                    turn_result r = turn_run(ses, &prompt, "", turn_media, sequence_params_make(o.gen), &out, &cancel, &cache);
                    out.end();
                    attached.clear();
                    chat_message reply;
                    reply.role       = "assistant";
                    reply.content    = r.parsed.content;
                    reply.reasoning  = r.parsed.reasoning;
                    reply.tool_calls = r.parsed.tool_calls;
                    history.push_back(reply);
                    if (tty) fprintf(stderr, "\033[2m%s\033[0m\n", turn_summary(r, "chat").c_str());
                } catch (const input_error & e) {
                    // A bad message or file ends that turn, not the conversation.
                    if (!history.empty() && history.back().role == "user") history.pop_back();
                    fprintf(stderr, "error: %s\n", e.what());
                }
            }
            return 0;
        };
    });
}

}  // namespace muse::cli
