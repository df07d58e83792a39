// `muse chat`: a multi-turn conversation on the terminal.
#include "agent/tool-names.h"
#include "agent/memory-prompt.h"
#include "store/database.h"
#include "cli/policy-options.h"
#include "cli/agent-turn.h"
#include "cli/chat-file.h"
#include "cli/commands.h"
#include "cli/line-editor.h"
#include "cli/options.h"
#include "cli/turn.h"
#include "engine/backend.h"
#include "engine/error.h"

#include <cstdio>
#include <iostream>
#include <optional>

namespace muse::cli {

struct chat_options {
    model_options      model;
    generation_options gen;
    agent_options      agent;  // --tools python,artifacts,...: each turn runs the agent loop
    policy_options     policy;
};

static const char * chat_help =
    "commands: /image PATH  attach an image to the next message\n"
    "          /audio PATH  attach an audio clip to the next message\n"
    "          /reset       forget the conversation\n"
    "          /save FILE   save the conversation as JSON (with its media paths)\n"
    "          /load FILE   replace the conversation with one saved by /save\n"
    "          /help        show this list\n"
    "          /exit        leave (or Ctrl-D on an empty line)\n"
    "keys:     Ctrl-C stops a reply, or clears the line being typed; up/down recall lines\n";

// What the conversation holds between turns.
struct chat_state {
    std::vector<chat_message> history;
    std::vector<std::string>  media_paths;  // every media item the history refers to
    std::vector<size_t>       attached;     // media for the next user message (into media_paths)
};

// One line from the terminal (libedit) or from a pipe (getline, unchanged for scripts).
static line_read_result chat_line_read(line_editor * editor, bool tty, std::string & line) {
    if (editor) {
        fputs("\n", stdout);
        fflush(stdout);
        return editor->line_read(line);
    }
    if (tty) {
        fputs("\n> ", stdout);
        fflush(stdout);
    }
    return std::getline(std::cin, line) ? LINE_READ_LINE : LINE_READ_END;
}

// "/save  chat.json " -> "chat.json"
static std::string command_argument(const std::string & line) {
    const size_t space = line.find(' ');
    if (space == std::string::npos) {
        return "";
    }
    const size_t first = line.find_first_not_of(" \t", space);
    const size_t last  = line.find_last_not_of(" \t\r");
    return first == std::string::npos ? "" : line.substr(first, last - first + 1);
}

// Replaces the conversation with a saved one, or leaves it as it was when any of it is bad.
static void chat_load(chat_state & st, const std::string & path, const model & mdl) {
    chat_file f;
    try {
        f = chat_file_load(path);
        for (const auto & p : f.media_paths) {
            (void) media::from_file(mdl.projector(), p);  // each one readable now, not at the next turn
        }
    } catch (const input_error & e) {
        throw input_error(std::string(e.what()) + " (nothing was loaded from " + path +
                          "; the chat goes on as it was)");
    }
    for (const auto & w : f.warnings) {
        fprintf(stderr, "warning: %s\n", w.c_str());
    }
    st.history     = std::move(f.messages);
    st.media_paths = std::move(f.media_paths);
    st.attached.clear();
}

// A slash command. Returns false for /exit.
static bool chat_command(chat_state & st, const std::string & line, const model & mdl, prefix_cache & cache) {
    const std::string name = line.substr(0, line.find(' '));
    const std::string arg  = command_argument(line);
    if (name == "/exit" || name == "/quit") {
        return false;
    }
    if (name == "/help") {
        fputs(chat_help, stderr);
    } else if (name == "/reset") {
        st = {};
        cache.clear();
        fputs("(conversation cleared)\n", stderr);
    } else if (name == "/save") {
        if (arg.empty()) {
            fputs("usage: /save FILE   save the conversation as JSON, e.g. /save chat.json\n", stderr);
            return true;
        }
        chat_file_save(arg, { st.history, st.media_paths, {} });
        fprintf(stderr, "(saved %zu messages to %s)\n", st.history.size(), arg.c_str());
    } else if (name == "/load") {
        if (arg.empty()) {
            fputs("usage: /load FILE   replace the conversation with one saved by /save\n", stderr);
            return true;
        }
        chat_load(st, arg, mdl);
        // The kept prompt is of the chat that was: its cells would only be matched by chance.
        cache.clear();
        fprintf(stderr, "(loaded %zu messages from %s)\n", st.history.size(), arg.c_str());
    } else if (name == "/image" || name == "/audio") {
        if (arg.empty()) {
            fprintf(stderr, "usage: %s PATH   attach %s to the next message\n", name.c_str(),
                    name == "/image" ? "an image" : "an audio clip");
            return true;
        }
        (void) media::from_file(mdl.projector(), arg);  // refused now rather than at the next turn
        st.media_paths.push_back(arg);
        st.attached.push_back(st.media_paths.size() - 1);
        fprintf(stderr, "(attached %s)\n", arg.c_str());
    } else {
        fprintf(stderr, "unknown command %s\n%s", line.c_str(), chat_help);
    }
    return true;
}

// One user message and the reply to it. A reply stopped by Ctrl-C is kept as far as it got
// (as llama-cli does): the next turn goes on from what was shown. Stopped before its first
// token, the turn is dropped whole, its attachments kept for the next message.
static void chat_turn(chat_state & st, const std::string & text, session & ses, const model & mdl,
                      prefix_cache & cache, const generation_options & gen, std::atomic<bool> & cancel,
                      bool tty, const chat_options & o, const agent_setup * agent, const safety::checker * policy) {
    // A refused line is answered by the policy and not kept: the conversation goes on without it.
    if (const safety::verdict in = policy_check_text(policy, safety::CHECK_POINT_INPUT, text, "cli.chat"); in.blocked()) {
        policy_stop_print(in, false);
        return;
    }
    chat_message user;
    user.role = "user";
    if (st.attached.empty()) {
        user.content = text;
    } else {
        for (size_t i : st.attached) {
            user.parts.push_back({ CHAT_PART_TYPE_MEDIA, "", i });
        }
        user.parts.push_back({ CHAT_PART_TYPE_TEXT, text, 0 });
    }
    st.history.push_back(user);

    chat_request req;
    req.messages = st.history;
    chat_request_apply(req, gen);
    // The template sees media in order of appearance: pass exactly those, in that order.
    std::vector<media> turn_media;
    for (auto & m : req.messages) {
        for (auto & p : m.parts) {
            if (p.type == CHAT_PART_TYPE_MEDIA) {
                turn_media.push_back(media::from_file(mdl.projector(), st.media_paths[p.media_index]));
                p.media_index = turn_media.size() - 1;
            }
        }
    }
    if (agent) {
        // The loop's steps and calls print as they happen; the turn keeps every message it made.
        const std::string & tc     = o.agent.tool_choice;
        const std::string   forced = tc == "required" || tc == "auto" || tc == "none" ? "" : tc;
        if (tc == "required") req.tool_choice = CHAT_TOOL_CHOICE_REQUIRED;
        if (agent->db && std::find(o.agent.tools.begin(), o.agent.tools.end(), "memory") != o.agent.tools.end()) {
            for (const auto & m : agent::memory_prompt_apply(*agent->db, agent->user_id, req, nullptr)) {
                fprintf(stderr, "memory: using %s \"%s\"\n", m.id.c_str(), m.text.c_str());
            }
        }
        auto r = agent_turn_run(ses, mdl, req, turn_media, sequence_params_make(gen), o.agent, *agent, forced, &cancel, &cache);
        const auto & oc = r.outcome;
        if (tty) {
            fprintf(stderr, "\033[2magent | %d steps | %zu tool calls | generated %d tok | %s | files %s\033[0m\n", oc.steps,
                    oc.calls.size(), oc.completion_tokens, agent::loop_stop_name(oc.stop), r.workdir.c_str());
        }
        if (oc.messages.empty() || (oc.stop == agent::LOOP_STOP_CANCELLED && oc.calls.empty() && oc.last.content.empty())) {
            st.history.pop_back();
            fputs("(stopped before the reply began; the message was not kept)\n", stderr);
        } else {
            // Images the calls returned are media of this turn; the history names media by path.
            const size_t first_path = st.media_paths.size();
            st.media_paths.insert(st.media_paths.end(), r.added_media.begin(), r.added_media.end());
            for (auto m : oc.messages) {
                for (auto & part : m.parts) {
                    if (part.type == CHAT_PART_TYPE_MEDIA && part.media_index >= r.media_base) {
                        part.media_index = first_path + (part.media_index - r.media_base);
                    }
                }
                st.history.push_back(std::move(m));
            }
            st.attached.clear();
        }
        cancel.store(false);
        return;
    }
    chat_prompt    prompt = chat_format(mdl, req, mdl.media_marker());
    answer_printer out;
    turn_result    r = turn_run(ses, &prompt, "", turn_media, sequence_params_make(gen), &out, &cancel, &cache, policy);
    out.end();
    if (r.stopped.action != safety::POLICY_ACTION_ALLOW || !r.stopped.category.empty()) {
        policy_audit(r.stopped, safety::CHECK_POINT_OUTPUT, "cli.chat", r.raw);
    }
    if (r.stopped.blocked()) {
        // The reply the history keeps is the policy's, not the text it stopped.
        policy_stop_print(r.stopped, true);
        chat_message reply;
        reply.role    = "assistant";
        reply.content = r.stopped.reply();
        st.history.push_back(reply);
        st.attached.clear();
        return;
    }
    if (const std::string note = r.stopped.note_suffix(); !note.empty()) {
        printf("\n%s\n", r.stopped.message.c_str());
        r.parsed.content += note;
    }
    if (tty) {
        fprintf(stderr, "\033[2m%s\033[0m\n", turn_summary(r, "chat").c_str());
    }

    if (r.stats.reason == FINISH_REASON_ERROR) fprintf(stderr, "error: %s\n", r.stats.error.c_str());
    const bool cancelled = r.stats.reason == FINISH_REASON_CANCELLED || r.stats.reason == FINISH_REASON_ERROR;
    const bool empty     = r.parsed.content.empty() && r.parsed.reasoning.empty() && r.parsed.tool_calls.empty();
    if (cancelled && empty) {
        st.history.pop_back();
        fputs("(stopped before the reply began; the message was not kept)\n", stderr);
    } else {
        chat_message reply;
        reply.role       = "assistant";
        reply.content    = r.parsed.content;
        reply.reasoning  = r.parsed.reasoning;
        reply.tool_calls = r.parsed.tool_calls;
        st.history.push_back(reply);
        st.attached.clear();
        if (cancelled) {
            fputs("(stopped; the reply so far is kept)\n", stderr);
        }
    }
    if (cancelled) {
        // Taken: the next reply runs, and the next Ctrl-C cancels again instead of ending the process.
        cancel.store(false);
    }
}

void chat_command_add(CLI::App & app, command_runner & runner) {
    auto * cmd  = app.add_subcommand("chat", "talk with a model, turn by turn");
    auto   opts = std::make_shared<chat_options>();
    model_options_add(*cmd, opts->model);
    generation_options_add(*cmd, opts->gen);
    agent_options_add(*cmd, opts->agent, true);
    policy_options_add(cmd, opts->policy);
    cmd->footer(std::string("\nIn the chat:\n") + chat_help);
    cmd->callback([opts, &runner]() {
        runner.run = [opts](std::atomic<bool> & cancel) {
            auto & o = *opts;
            // --tools NAMES runs them; any other value is a file of tool definitions (shown, not run).
            if (agent::tool_set_list(o.gen.tools_file, &o.agent.tools)) o.gen.tools_file.clear();
            agent_options_resolve(o.agent);
            model_options_check(o.model);  // -m NAME, and every file the options name, before the load
            generation_options_check(o.gen);
            if (!o.policy.guard_model.empty()) gguf_file_check(o.policy.guard_model, "guard model");
            backend              be(o.model.verbose);
            const policy_runtime policy = policy_runtime_make(o.policy, be, o.model.n_threads);
            std::optional<agent_setup> agent;
            if (!o.agent.tools.empty()) {
                agent         = agent_setup_make(o.agent);
                agent->policy = policy.checker.get();
            }
            auto    mdl = model_load(be, o.model);
            reasoning_options_note(*mdl, o.gen, "");
            if (cancel.load()) {
                return 130;  // Ctrl-C while the model loaded: the user left before the chat began
            }
            // Two sequences: the turn, and the previous turn's cells when the turn shares only a
            // beginning with them (a turn that goes on from them takes them over).
            session                    ses(*mdl, context_params_make(o.model, 2));
            context_size_note(o.model, ses);
            prefix_cache               cache(ses);
            const bool                 tty = is_tty(stdin);
            std::optional<line_editor> editor;
            if (tty && is_tty(stdout)) {
                editor.emplace("muse", "> ", cancel);
            }
            if (tty) {
                fputs(chat_help, stderr);
            }

            chat_state  st;
            std::string line;
            while (true) {
                // A Ctrl-C taken at the prompt, or one that came while a command ran: nothing left
                // to stop. Set back, the next one cancels again instead of ending the process.
                cancel.store(false);
                const line_read_result got = chat_line_read(editor ? &*editor : nullptr, tty, line);
                if (got == LINE_READ_END) {
                    if (editor) {
                        fputs("\n", stdout);  // the shell's prompt on a line of its own
                    }
                    break;
                }
                if (got == LINE_READ_INTERRUPTED) {
                    fputs("^C", stdout);  // like a shell: the line is dropped, a fresh prompt follows
                    continue;
                }
                // Without the editor a Ctrl-C cannot end getline: one while it waited is dropped.
                cancel.store(false);
                if (line.empty()) {
                    continue;
                }
                if (editor) {
                    editor->history_add(line);
                }
                try {
                    if (line[0] == '/') {
                        if (!chat_command(st, line, *mdl, cache)) {
                            break;
                        }
                        continue;
                    }
                    chat_turn(st, line, ses, *mdl, cache, o.gen, cancel, tty, o, agent ? &*agent : nullptr, policy.checker.get());
                } catch (const input_error & e) {
                    // A bad message or file ends that turn, not the conversation.
                    if (line[0] != '/' && !st.history.empty() && st.history.back().role == "user") {
                        st.history.pop_back();
                    }
                    fprintf(stderr, "error: %s\n", e.what());
                }
            }
            return 0;
        };
    });
}

}  // namespace muse::cli
