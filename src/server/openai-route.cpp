// POST /v1/chat/completions: stream and non-stream, n choices, tools, JSON schema, the
// reasoning modes through the `muse` extension, and conversations that grow as messages
// complete.
#include "server/chat-run.h"
#include "server/memory-context.h"
#include "server/data-routes.h"
#include "server/deferred-json.h"
#include "server/json-fields.h"
#include "server/openai-chat.h"
#include "server/responses-input.h"
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

void conversation_store(server_state & st, const caller & who, const std::string & conv, const json & msg) {
    if (conv.empty()) return;
    // A conversation deleted meanwhile takes no more messages; that is not the caller's error.
    st.db.message_append(who.id, conv, msg.value("role", "assistant"), msg.dump());
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
    json       history = json::array();
    std::string conv;
    if (body.is_object() && body.contains("muse") && body["muse"].is_object()) {
        conv = str_field(body["muse"], "conversation_id", "muse", false);
    }
    if (!conv.empty()) {
        if (!st.db.conversation_get(who.id, conv)) {
            throw http_error(404, "no conversation " + conv, "muse.conversation_id", "conversation_not_found");
        }
        for (const auto & m : st.db.message_list(who.id, conv)) history.push_back(json::parse(m.content));
    }
    if (auto names = chat_agent_tool_names(body); !names.empty()) {
        chat_completions_agent_handle(st, body, res, who, names, history, conv);
        return;
    }
    const file_reader files = [&st, &who](const std::string & id) { return st.db.file_read(who.id, id); };
    chat_call call = openai_chat_parse(body, st.mdl, st.cfg.limits, files, history);
    const json memory_used = memory_context_apply(st, who, call, body);
    if (!memory_used.empty()) res.set_header("x-muse-memory", memory_used_header(memory_used));
    const reason::reason_mode mode = call.reason.mode;
    auto run = chat_run_start(st, call, std::to_string(who.id), conv);
    // The request's messages are part of the conversation once the request runs.
    for (const auto & m : call.new_messages) conversation_store(st, who, conv, m);

    const std::string id      = id_make("chatcmpl-");
    const int64_t     created = unix_now();
    const std::string model   = st.cfg.model_id;

    if (!call.stream) {
        deferred_json_send(
            res, run,
            [&st, run, who, conv, id, created, model, mode, memory_used] {
                chat_run_finish(st, *run);
                json choices = json::array();
                for (size_t i = 0; i < run->choices.size(); ++i) {
                    choices.push_back({ { "index", i },
                                        { "message", message_json(*run, i) },
                                        { "finish_reason", finish_reason_of(*run, i) },
                                        { "logprobs", chat_run_logprobs_take(*run, i) } });
                }
                conversation_store(st, who, conv, choices[0]["message"]);
                json out = { { "id", id }, { "object", "chat.completion" }, { "created", created }, { "model", model },
                             { "choices", choices }, { "usage", usage_json(*run) } };
                if (run->reasoning_mode) out["muse"] = reason_result_json(run->j->reason_result, mode);
                if (!memory_used.empty()) out["muse"]["memory_used"] = memory_used;
                return out.dump(-1, ' ', false, json::error_handler_t::replace);
            },
            [](const http_error & e) { return error_body(e, WIRE_FORMAT_OPENAI); });
        return;
    }

    const bool include_usage = call.include_usage;
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [&st, run, who, conv, id, created, model, include_usage, mode](size_t, httplib::DataSink & sink) {
            try {
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
                try {
                    chat_run_finish(st, *run);
                } catch (const http_error & e) {
                    stream_error_end(sink, e, WIRE_FORMAT_OPENAI);
                    return true;
                }
                for (size_t i = 0; i < run->choices.size(); ++i) {
                    json delta = json::object();
                    if (run->reasoning_mode) {
                        delta["content"] = run->j->reason_result.content;
                    }
                    json c = chunk(choice(i, delta, finish_reason_of(*run, i)));
                    if (run->reasoning_mode) c["muse"] = reason_result_json(run->j->reason_result, mode);
                    ok = ok && sse_write(sink, c);
                }
                if (include_usage) {
                    json c     = chunk(json::array());
                    c["usage"] = usage_json(*run);
                    ok         = ok && sse_write(sink, c);
                }
                try {
                    conversation_store(st, who, conv, message_json(*run, 0));
                } catch (const std::exception &) {
                    // The reply was sent; a store failure is logged by the store, not the client's.
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
