// POST /v1/chat/completions with "muse": {"tools": [...]}: the agent loop runs the server-side
// tools and generates again until an answer; the reply is the last step's message, with the
// calls in muse.tool_calls. Streamed, the steps' text arrives as ordinary deltas and each call
// as an extra chunk with no choices ({"choices": [], "muse": {"event": "tool_call", ...}}),
// which standard clients skip.
#include "agent/tool-names.h"
#include "server/agent-run.h"
#include "server/memory-context.h"
#include "server/chat-run.h"
#include "server/conversation-branch.h"
#include "server/data-routes.h"
#include "server/json-fields.h"
#include "server/openai-chat.h"
#include "server/safety-gate.h"
#include "server/wire-util.h"

namespace muse::server {

using json = nlohmann::json;

// The names in muse.tools; empty when the body has none.
std::vector<std::string> chat_agent_tool_names(const json & body) {
    std::vector<std::string> names;
    if (!body.is_object() || !body.contains("muse") || !body["muse"].is_object() || !body["muse"].contains("tools")) return names;
    const json & t = body["muse"]["tools"];
    if (!t.is_array()) throw http_error(400, "muse.tools must be an array of tool names (" + agent::tool_set_names_text() + ")", "muse.tools");
    for (const auto & n : t) {
        if (!n.is_string()) throw http_error(400, "muse.tools must be an array of tool names (" + agent::tool_set_names_text() + ")", "muse.tools");
        names.push_back(n.get<std::string>());
    }
    return names;
}

void chat_completions_agent_handle(server_state & st, json body, httplib::Response & res, const caller & who,
                                   const std::vector<std::string> & names, std::shared_ptr<conversation_branch> branch) {
    const std::string conv  = branch->id;
    const std::string id    = id_make("chatcmpl-");
    auto              scope = std::make_shared<agent_scope>();
    scope->who              = who;
    scope->workspace        = conv.empty() ? id : conv;
    auto tools              = agent_tools_select(st, scope, names, "muse.tools");
    agent_tools_add_to_body(body, tools);
    const file_reader files = [&st, &who](const std::string & fid) { return st.db.file_read(who.id, fid); };
    chat_call call = openai_chat_parse(body, st.mdl, agent_parse_limits(st, names), files, branch->history);
    const json memory_used = memory_context_apply(st, who, call, body);
    if (!memory_used.empty()) res.set_header("x-muse-memory", memory_used_header(memory_used));
    const bool contemplate = call.reasoning_mode && call.reason.mode == reason::REASON_MODE_CONTEMPLATE;
    if ((call.reasoning_mode && !contemplate) || call.n != 1) {
        throw http_error(400, "muse.tools runs one answer: n must be 1, and muse.mode instant, thinking or contemplate "
                              "(for orchestrate's sub-agents, give the model spawn_agent: \"muse\": {\"tools\": [\"spawn_agent\"]})",
                         call.n != 1 ? "n" : "muse.mode");
    }
    if (const safety::verdict in = safety_input_check(st, who, call, "chat_completions"); in.blocked()) {
        for (const auto & m : call.new_messages) conversation_branch_append(st, who, *branch, m, "user");
        conversation_branch_append(st, who, *branch, { { "role", "assistant" }, { "content", safety_reply_text(in) } }, "assistant");
        safety_refusal_send(st, res, WIRE_FORMAT_OPENAI, in, call.stream, st.cfg.model_id);
        return;
    }
    const auto    turns   = safety_turns(call);
    auto          params  = agent_loop_params(st, scope, tools);
    params.context.images = call.images;
    scope->images         = call.images;
    // Each contemplating agent would add to the one media list at once: images stay text there.
    if (!contemplate) agent_images_to_media(st, params, call);
    const int64_t created = unix_now();
    const std::string model = st.cfg.model_id;
    for (const auto & m : call.new_messages) conversation_branch_append(st, who, *branch, m, "user");

    // The loop, or with contemplate one loop per agent (its own seed and temperature, its own
    // calls) and the answer the most agents gave; `extra` gets the agents' report
    // (agent_contemplate passes the agents' call events on one at a time).
    auto run = [&st, call, params, scope, contemplate](const agent::loop_events & ev, json & extra) {
        if (!contemplate) return agent::loop_run(call.request, params, agent_generate(st, call, scope), ev);
        return agent_contemplate(st, call, params, scope, ev, extra);
    };

    // The reply once the loop is done (both ways of answering end with it).
    // `v`: the policy's verdict on the answer (a stopped stream's, or the check of the whole).
    auto finish = [&st, who, branch](const agent::loop_outcome & o, const safety::verdict & v, json & message, const char *& reason) {
        message = { { "role", "assistant" }, { "content", o.last.content } };
        if (!o.last.reasoning.empty()) message["reasoning_content"] = o.last.reasoning;
        reason = "stop";
        if (v.blocked()) {
            message = { { "role", "assistant" }, { "content", safety_reply_text(v) },
                        { "refusal", v.crisis ? json(nullptr) : json(safety_reply_text(v)) } };
            reason  = "content_filter";
        } else if (!o.pending_calls.empty()) {
            message["tool_calls"] = openai_tool_calls(o.pending_calls);
            reason                = "tool_calls";
        } else if (o.stop == agent::LOOP_STOP_LENGTH || o.stop == agent::LOOP_STOP_TOKEN_BUDGET) {
            reason = "length";
        }
        if (!v.blocked() && !v.note_suffix().empty()) message["content"] = o.last.content + v.note_suffix();
        // The stored message keeps the calls the loop ran, so a reload shows them.
        json stored = message;
        if (!o.calls.empty()) {
            json calls = json::array();
            for (const auto & r : o.calls) calls.push_back(agent_call_json(r));
            stored["muse"] = { { "tool_calls", conversation_tool_calls_stored(calls) } };
        }
        conversation_reply_append(st, who, *branch, stored);
    };
    auto muse_json = [workspace = scope->workspace, branch](const agent::loop_outcome & o) {
        json calls = json::array();
        for (const auto & r : o.calls) calls.push_back(agent_call_json(r));
        json out = { { "stop", agent::loop_stop_name(o.stop) }, { "steps", o.steps }, { "tool_calls", calls },
                   { "step_usage", agent_step_usage_json(o) }, { "workspace", workspace } };
        if (!branch->id.empty()) out["conversation"] = conversation_branch_json(*branch);
        return out;
    };
    auto usage = [](const agent::loop_outcome & o) {
        return json{ { "prompt_tokens", o.prompt_tokens }, { "completion_tokens", o.completion_tokens },
                     { "total_tokens", o.prompt_tokens + o.completion_tokens },
                     { "completion_tokens_details", { { "reasoning_tokens", o.reasoning_tokens } } } };
    };

    if (!call.stream) {
        agent::loop_events ev;
        ev.call_finished = [&](const agent::call_record & r) { agent_audit(st, *scope, r); };
        json                extra;
        agent::loop_outcome o = run(ev, extra);
        const safety::verdict v = safety_output_check(st, who, turns, o.last.reasoning + "\n" + o.last.content, "chat_completions");
        json        message;
        const char * reason = "stop";
        finish(o, v, message, reason);
        json out = { { "id", id }, { "object", "chat.completion" }, { "created", created }, { "model", model },
                     { "choices", json::array({ { { "index", 0 }, { "message", message }, { "finish_reason", reason }, { "logprobs", nullptr } } }) },
                     { "usage", usage(o) }, { "muse", muse_json(o) } };
        if (!extra.is_null()) out["muse"].update(extra);
        if (!v.category.empty()) out["muse"]["safety"] = safety_json(st, v, safety::CHECK_POINT_OUTPUT);
        res.set_content(out.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
        return;
    }
    const bool include_usage = call.include_usage;
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [&st, run, scope, id, created, model, include_usage, finish, muse_json, usage, turns](size_t, httplib::DataSink & sink) {
            // The steps' text is checked as it streams; the policy stopping it ends the loop.
            safety_stream   check(st, scope->who, turns, "chat_completions");
            safety::verdict stopped;
            auto chunk = [&](json choices) {
                return json{ { "id", id }, { "object", "chat.completion.chunk" }, { "created", created }, { "model", model },
                             { "choices", std::move(choices) } };
            };
            bool ok    = sse_write(sink, chunk(json::array({ { { "index", 0 }, { "delta", { { "role", "assistant" }, { "content", "" } } },
                                                                { "finish_reason", nullptr } } })));
            auto extra = [&](json m) {
                json c    = chunk(json::array());
                c["muse"] = std::move(m);
                ok        = ok && sse_write(sink, c);
                if (!ok) scope->cancel = true;
            };
            agent::loop_events ev;
            ev.step_started = [&](int step) { extra({ { "event", "step" }, { "step", step } }); };
            // An SSE comment while tools run: clients skip it; a failed write means the client left.
            ev.waiting = [&] {
                static const std::string ping = ": muse: tools running\n\n";
                ok = ok && sink.write(ping.data(), ping.size());
                if (!ok) scope->cancel = true;
            };
            ev.text = [&](int, const std::string & r, const std::string & c) {
                if (stopped.blocked()) return;
                stopped = check.push(r + c);
                if (stopped.blocked()) {
                    scope->cancel = true;
                    return;
                }
                json delta = json::object();
                if (!r.empty()) delta["reasoning_content"] = r;
                if (!c.empty()) delta["content"] = c;
                ok = ok && sse_write(sink, chunk(json::array({ { { "index", 0 }, { "delta", delta }, { "finish_reason", nullptr } } })));
                if (!ok) scope->cancel = true;
            };
            ev.call_started = [&](int step, const chat_tool_call & c) {
                extra({ { "event", "tool_call.started" }, { "step", step }, { "id", c.id }, { "name", c.name }, { "arguments", c.arguments } });
            };
            ev.call_finished = [&](const agent::call_record & r) {
                agent_audit(st, *scope, r);
                json j     = agent_call_json(r);
                j["event"] = "tool_call.finished";
                j["step"]  = r.step;
                extra(std::move(j));
            };
            try {
                json                extra;
                agent::loop_outcome o = run(ev, extra);
                if (!ok) return false;
                // Contemplate streamed the agents' calls, not their text: its answer is checked whole.
                if (!stopped.blocked()) {
                    stopped = extra.is_null() ? check.finish()
                                              : safety_output_check(st, scope->who, turns, o.last.reasoning + "\n" + o.last.content,
                                                                    "chat_completions");
                }
                json        message;
                const char * reason = "stop";
                finish(o, stopped, message, reason);
                json delta = json::object();
                if ((!extra.is_null() || stopped.blocked()) && message["content"].is_string()) delta["content"] = message["content"];
                else if (!stopped.note_suffix().empty()) delta["content"] = stopped.note_suffix();
                if (message.contains("tool_calls")) {
                    json tcs = message["tool_calls"];
                    for (size_t i = 0; i < tcs.size(); ++i) tcs[i]["index"] = i;
                    delta["tool_calls"] = tcs;
                }
                json c    = chunk(json::array({ { { "index", 0 }, { "delta", delta }, { "finish_reason", reason } } }));
                c["muse"] = muse_json(o);
                if (!extra.is_null()) c["muse"].update(extra);
                if (!stopped.category.empty()) c["muse"]["safety"] = safety_json(st, stopped, safety::CHECK_POINT_OUTPUT);
                ok        = ok && sse_write(sink, c);
                if (include_usage) {
                    json u     = chunk(json::array());
                    u["usage"] = usage(o);
                    // The last chunk before [DONE] says what the conversation stored.
                    if (c["muse"].contains("conversation")) u["muse"]["conversation"] = c["muse"]["conversation"];
                    ok         = ok && sse_write(sink, u);
                }
                const std::string done = "data: [DONE]\n\n";
                ok = ok && sink.write(done.data(), done.size());
                sink.done();
                return ok;
            } catch (const http_error & e) {
                stream_error_end(sink, e, WIRE_FORMAT_OPENAI);
                return true;
            } catch (const std::exception & e) {
                stream_failure_end(sink, e, WIRE_FORMAT_OPENAI);
                return true;
            }
        },
        [scope](bool success) {
            if (!success) scope->cancel = true;
        });
}

}  // namespace muse::server
