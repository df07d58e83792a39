// POST /v1/chat/completions: stream and non-stream, n choices, tools, JSON schema, the
// reasoning modes through the `muse` extension, and conversations that grow as messages
// complete.
#include "server/chat-run.h"
#include "server/conversation-branch.h"
#include "server/memory-context.h"
#include "server/data-routes.h"
#include "server/deferred-json.h"
#include "server/json-fields.h"
#include "server/openai-chat.h"
#include "server/responses-input.h"
#include "server/safety-gate.h"
#include "server/wire-util.h"

namespace muse::server {

using json = nlohmann::json;

namespace {

constexpr auto pump_wait = std::chrono::milliseconds(100);

json usage_json(chat_run & run) {
    const int prompt = run.j->prompt_tokens;
    const int gen    = chat_run_completion_tokens(run);
    return { { "prompt_tokens", prompt },
             { "completion_tokens", gen },
             { "total_tokens", prompt + gen },
             { "prompt_tokens_details", { { "cached_tokens", run.j->cached_tokens } } },
             { "completion_tokens_details", { { "reasoning_tokens", chat_run_reasoning_tokens(run) } } } };
}

// The assistant message of choice `i` once it is complete.
json message_json(chat_run & run, size_t i) {
    json msg = { { "role", "assistant" } };
    if (run.reasoning_mode) {
        const auto & r = run.j->reason_result;
        msg["content"] = r.content;
        if (!r.reasoning.empty()) msg["reasoning_content"] = r.reasoning;
        return msg;
    }
    const chat_parsed & p = run.choices[i].final_parse();
    msg["content"]        = p.tool_calls.empty() || !p.content.empty() ? json(p.content) : json(nullptr);
    if (!p.reasoning.empty()) msg["reasoning_content"] = p.reasoning;
    if (!p.tool_calls.empty()) msg["tool_calls"] = openai_tool_calls(p.tool_calls);
    return msg;
}

const char * finish_reason_of(chat_run & run, size_t i) {
    if (run.reasoning_mode) {
        return run.j->timed_out ? "length" : "stop";
    }
    auto & c = run.choices[i];
    return openai_finish_reason(c.reason, !c.final_parse().tool_calls.empty());
}

// An answer the policy stopped is replaced by its reply (and loses its tool calls); a warning's
// note is added to it. Returns the finish reason the choice gets (nullptr: its own).
const char * safety_apply(const safety::verdict & v, json & msg) {
    if (v.blocked()) {
        msg["content"] = safety_reply_text(v);
        msg["refusal"] = v.crisis ? json(nullptr) : json(safety_reply_text(v));
        msg.erase("tool_calls");
        msg.erase("reasoning_content");
        return "content_filter";
    }
    if (!v.note_suffix().empty() && msg["content"].is_string()) msg["content"] = msg["content"].get<std::string>() + v.note_suffix();
    return nullptr;
}

}  // namespace

void responses_input_tokens_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who) {
    const json        chat  = responses_to_chat_body(body_json(req));
    const file_reader files = [&st, &who](const std::string & id) { return st.db.file_read(who.id, id); };
    const chat_call   call  = openai_chat_parse(chat, st.mdl, st.cfg.limits, files, json::array());
    res.set_content(json{ { "object", "response.input_tokens" }, { "input_tokens", chat_call_prompt_tokens(st, call, "input") } }.dump(),
                    "application/json");
}

void chat_completions_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who) {
    const json body = body_json(req);
    // The branch the request continues: its history, and where its messages are stored.
    auto branch = std::make_shared<conversation_branch>(conversation_branch_open(st, who, body));
    const std::string conv = branch->id;
    if (auto names = chat_agent_tool_names(body); !names.empty()) {
        chat_completions_agent_handle(st, body, res, who, names, branch);
        return;
    }
    const file_reader files = [&st, &who](const std::string & id) { return st.db.file_read(who.id, id); };
    chat_call call = openai_chat_parse(body, st.mdl, st.cfg.limits, files, branch->history);
    const json memory_used = memory_context_apply(st, who, call, body);
    if (!memory_used.empty()) res.set_header("x-muse-memory", memory_used_header(memory_used));
    const reason::reason_mode mode = call.reason.mode;
    if (const safety::verdict in = safety_input_check(st, who, call, "chat_completions"); in.blocked()) {
        for (const auto & m : call.new_messages) conversation_branch_append(st, who, *branch, m, "user");
        conversation_branch_append(st, who, *branch, { { "role", "assistant" }, { "content", safety_reply_text(in) } }, "assistant");
        safety_refusal_send(st, res, WIRE_FORMAT_OPENAI, in, call.stream, st.cfg.model_id);
        return;
    }
    const auto turns = safety_turns(call);
    auto run = chat_run_start(st, call, std::to_string(who.id), conv);
    // The request's messages are part of the conversation once the request runs.
    for (const auto & m : call.new_messages) conversation_branch_append(st, who, *branch, m, "user");

    const std::string id      = id_make("chatcmpl-");
    const int64_t     created = unix_now();
    const std::string model   = st.cfg.model_id;

    if (!call.stream) {
        deferred_json_send(
            res, run,
            [&st, run, who, branch, id, created, model, mode, memory_used, turns] {
                chat_run_finish(st, *run);
                json choices = json::array();
                json safety  = json::array();
                for (size_t i = 0; i < run->choices.size(); ++i) {
                    json msg = message_json(*run, i);
                    const std::string text = msg.value("reasoning_content", "") + "\n" +
                                             (msg["content"].is_string() ? msg["content"].get<std::string>() : "");
                    const safety::verdict v = safety_output_check(st, who, turns, text, "chat_completions");
                    const char * filtered = safety_apply(v, msg);
                    if (!v.category.empty()) safety.push_back(safety_json(st, v, safety::CHECK_POINT_OUTPUT));
                    choices.push_back({ { "index", i },
                                        { "message", std::move(msg) },
                                        { "finish_reason", filtered ? filtered : finish_reason_of(*run, i) },
                                        { "logprobs", chat_run_logprobs_take(*run, i) } });
                }
                conversation_branch_append(st, who, *branch, choices[0]["message"], "assistant");
                json out = { { "id", id }, { "object", "chat.completion" }, { "created", created }, { "model", model },
                             { "choices", choices }, { "usage", usage_json(*run) } };
                if (run->reasoning_mode) out["muse"] = reason_result_json(run->j->reason_result, mode);
                if (!branch->id.empty()) out["muse"]["conversation"] = conversation_branch_json(*branch);
                if (!memory_used.empty()) out["muse"]["memory_used"] = memory_used;
                if (!safety.empty()) out["muse"]["safety"] = safety.size() == 1 ? safety[0] : safety;
                return out.dump(-1, ' ', false, json::error_handler_t::replace);
            },
            [](const http_error & e) { return error_body(e, WIRE_FORMAT_OPENAI); });
        return;
    }

    const bool include_usage = call.include_usage;
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [&st, run, who, branch, id, created, model, include_usage, mode, turns](size_t, httplib::DataSink & sink) {
            try {
                // Each choice's text is checked as it streams; a choice the policy stops sends
                // nothing more and ends with finish_reason content_filter.
                std::vector<std::unique_ptr<safety_stream>> checks;
                std::vector<safety::verdict>                stopped(run->choices.size());
                for (size_t i = 0; i < run->choices.size(); ++i) {
                    checks.push_back(std::make_unique<safety_stream>(st, who, turns, "chat_completions"));
                }
                size_t n_stopped = 0;
                auto chunk = [&](json choices) {
                    return json{ { "id", id }, { "object", "chat.completion.chunk" }, { "created", created },
                                 { "model", model }, { "choices", std::move(choices) } };
                };
                // Each chunk carries the log-probabilities of the tokens that arrived since the last.
                auto choice = [&run](size_t i, json delta, json finish, bool with_logprobs = true) {
                    return json::array({ { { "index", i }, { "delta", std::move(delta) },
                                           { "logprobs", with_logprobs ? chat_run_logprobs_take(*run, i) : json(nullptr) },
                                           { "finish_reason", std::move(finish) } } });
                };
                bool ok = true;
                for (size_t i = 0; i < run->choices.size() && ok; ++i) {
                    ok = sse_write(sink, chunk(choice(i, { { "role", "assistant" }, { "content", "" } }, nullptr, false)));
                }
                chat_run_sink s;
                s.delta = [&](int i, const choice_tracker::delta & d) {
                    if ((size_t) i < stopped.size()) {
                        if (stopped[i].blocked()) return;
                        stopped[i] = checks[i]->push(d.reasoning + d.content);
                        if (stopped[i].blocked()) {
                            if (++n_stopped == stopped.size()) run->j->cancel();  // nothing left to send
                            return;
                        }
                    }
                    json delta = json::object();
                    if (!d.reasoning.empty()) delta["reasoning_content"] = d.reasoning;
                    if (!d.content.empty()) delta["content"] = d.content;
                    // Tool calls as they are generated: the name first, then the arguments.
                    for (const auto & tc : d.tool_calls) {
                        json t = { { "index", tc.index }, { "function", { { "arguments", tc.arguments } } } };
                        if (tc.first) {
                            t["id"]               = tc.id.empty() ? "call_" + std::to_string(tc.index) : tc.id;
                            t["type"]             = "function";
                            t["function"]["name"] = tc.name;
                        }
                        delta["tool_calls"].push_back(std::move(t));
                    }
                    ok = ok && sse_write(sink, chunk(choice((size_t) i, delta, nullptr)));
                };
                s.progress = [&](int agent, int tokens, bool in_reasoning, bool finished) {
                    json c    = chunk(json::array());
                    c["muse"] = { { "event", "agent" }, { "agent", agent }, { "tokens", tokens },
                                  { "reasoning", in_reasoning }, { "finished", finished } };
                    ok = ok && sse_write(sink, c);
                };
                while (ok && chat_run_pump(*run, s, pump_wait)) {
                }
                if (!ok) {
                    run->j->cancel();  // the client went away: its sequences end at the next step
                    return false;
                }
                if (n_stopped < stopped.size()) {
                    try {
                        chat_run_finish(st, *run);
                    } catch (const http_error & e) {
                        stream_error_end(sink, e, WIRE_FORMAT_OPENAI);
                        return true;
                    }
                }
                json stored;  // what the conversation keeps of choice 0
                for (size_t i = 0; i < run->choices.size(); ++i) {
                    json delta = json::object();
                    safety::verdict v = stopped[i];
                    if (!v.blocked()) {
                        // The reasoning modes' answer arrives whole, here: it is checked whole.
                        v = run->reasoning_mode ? safety_output_check(st, who, turns, run->j->reason_result.reasoning + "\n" +
                                                                                       run->j->reason_result.content, "chat_completions")
                                                : checks[i]->finish();
                    }
                    if (v.blocked()) {
                        delta["content"] = safety_reply_text(v);
                    } else {
                        if (run->reasoning_mode) delta["content"] = run->j->reason_result.content;
                        if (!v.note_suffix().empty()) delta["content"] = delta.value("content", "") + v.note_suffix();
                    }
                    json c = chunk(choice(i, delta, v.blocked() ? "content_filter" : finish_reason_of(*run, i)));
                    if (run->reasoning_mode) c["muse"] = reason_result_json(run->j->reason_result, mode);
                    if (!v.category.empty()) c["muse"]["safety"] = safety_json(st, v, safety::CHECK_POINT_OUTPUT);
                    ok = ok && sse_write(sink, c);
                    if (i == 0) {
                        stored = v.blocked() ? json{ { "role", "assistant" }, { "content", safety_reply_text(v) } } : message_json(*run, 0);
                        if (!v.blocked()) safety_apply(v, stored);
                    }
                }
                conversation_reply_append(st, who, *branch, stored);
                // The last chunk before [DONE] (the usage one, or one with no choices) says
                // what the conversation stored.
                if (include_usage || !branch->id.empty()) {
                    json c = chunk(json::array());
                    if (include_usage) c["usage"] = usage_json(*run);
                    if (!branch->id.empty()) c["muse"]["conversation"] = conversation_branch_json(*branch);
                    ok = ok && sse_write(sink, c);
                }
                const std::string done = "data: [DONE]\n\n";
                ok = ok && sink.write(done.data(), done.size());
                sink.done();
                return ok;
            } catch (const std::exception & e) {
                stream_failure_end(sink, e, WIRE_FORMAT_OPENAI);
                return true;
            }
        },
        [run](bool success) {
            if (!success) run->j->cancel();
        });
}

}  // namespace muse::server
