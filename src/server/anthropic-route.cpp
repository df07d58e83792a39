// POST /v1/messages: Anthropic's wire format — system, content blocks (text, image,
// tool_use, tool_result, thinking), tools, extended thinking, streaming events.
#include "engine/model.h"
#include "server/safety-gate.h"
#include "server/anthropic-request.h"
#include "server/chat-run.h"
#include "server/memory-context.h"
#include "server/data-routes.h"
#include "server/deferred-json.h"
#include "server/json-fields.h"
#include "server/wire-util.h"

namespace muse::server {

using json = nlohmann::json;

namespace {

constexpr auto pump_wait = std::chrono::milliseconds(100);

std::string blocks_text(const json & content, const std::string & where) {
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array()) throw http_error(400, where + " must be a string or an array of blocks", where);
    std::string out;
    for (size_t i = 0; i < content.size(); ++i) {
        const std::string p = where + "[" + std::to_string(i) + "]";
        if (str_field(content[i], "type", p, true) != "text") {
            throw http_error(400, p + ": only text blocks are allowed here", p);
        }
        out += str_field(content[i], "text", p, true);
    }
    return out;
}

void messages_read(const json & body, chat_call & call, const model & mdl, const server_limits & limits) {
    if (body.contains("system") && !body["system"].is_null()) {
        chat_message sys;
        sys.role    = "system";
        sys.content = blocks_text(body["system"], "system");
        call.request.messages.push_back(std::move(sys));
    }
    const json & messages = body["messages"];
    for (size_t i = 0; i < messages.size(); ++i) {
        const json &      m    = messages[i];
        const std::string p    = "messages[" + std::to_string(i) + "]";
        const std::string role = str_field(m, "role", p, true);
        if (role != "user" && role != "assistant") {
            throw http_error(400, p + ".role must be user or assistant (system goes in the top-level system field)", p + ".role");
        }
        if (!m.contains("content")) throw http_error(400, p + ".content is required", p + ".content");
        const json & content = m["content"];
        chat_message msg;
        msg.role = role;
        if (content.is_string()) {
            msg.content = content.get<std::string>();
            call.request.messages.push_back(std::move(msg));
            continue;
        }
        if (!content.is_array()) throw http_error(400, p + ".content must be a string or an array of blocks", p + ".content");
        for (size_t k = 0; k < content.size(); ++k) {
            const json &      b    = content[k];
            const std::string bp   = p + ".content[" + std::to_string(k) + "]";
            const std::string type = str_field(b, "type", bp, true);
            if (type == "text") {
                chat_part part;
                part.text = str_field(b, "text", bp, true);
                msg.parts.push_back(part);
            } else if (type == "image" && role == "user") {
                const json & src = obj_field(b, "source", bp, true);
                if (str_field(src, "type", bp + ".source", true) != "base64") {
                    throw http_error(400, bp + ".source: muse fetches nothing from the network; send base64 image data",
                                     bp + ".source.type");
                }
                chat_part part;
                part.type        = CHAT_PART_TYPE_MEDIA;
                part.media_index = media_add(call, mdl, base64_decode(str_field(src, "data", bp + ".source", true),
                                                                      bp + ".source.data"),
                                             bp, limits);
                msg.parts.push_back(part);
            } else if (type == "tool_use" && role == "assistant") {
                chat_tool_call tc;
                tc.id        = str_field(b, "id", bp, true);
                tc.name      = str_field(b, "name", bp, true);
                tc.arguments = b.contains("input") ? b["input"].dump() : "{}";
                msg.tool_calls.push_back(std::move(tc));
            } else if (type == "thinking" && role == "assistant") {
                msg.reasoning += str_field(b, "thinking", bp, true);
            } else if (type == "tool_result" && role == "user") {
                chat_message tool;
                tool.role         = "tool";
                tool.tool_call_id = str_field(b, "tool_use_id", bp, true);
                tool.content      = b.contains("content") ? blocks_text(b["content"], bp + ".content") : "";
                call.request.messages.push_back(std::move(tool));
            } else {
                throw http_error(400, bp + ": block type '" + type + "' is not allowed in a " + role + " message", bp + ".type");
            }
        }
        // A user turn of only tool results adds no empty user message.
        if (!msg.parts.empty() || !msg.tool_calls.empty() || !msg.reasoning.empty()) {
            bool text_only = true;
            for (const auto & part : msg.parts) text_only = text_only && part.type == CHAT_PART_TYPE_TEXT;
            if (text_only) {
                for (const auto & part : msg.parts) msg.content += part.text;
                msg.parts.clear();
            }
            call.request.messages.push_back(std::move(msg));
        }
    }
}

}  // namespace

chat_call anthropic_parse(const json & body, const model & mdl, const server_limits & limits) {
    if (!body.is_object()) throw http_error(400, "the request body must be a JSON object");
    if (!body.contains("max_tokens")) throw http_error(400, "max_tokens is required", "max_tokens");
    if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty()) {
        throw http_error(400, "messages must be a non-empty array", "messages");
    }
    if ((int) body["messages"].size() > limits.max_messages) {
        throw http_error(400, "too many messages; the server takes at most " + std::to_string(limits.max_messages), "messages");
    }
    chat_call call;
    messages_read(body, call, mdl, limits);
    const int32_t max_tokens = (int32_t) num_field(body, "max_tokens", 0, 1, 1e9);
    if (max_tokens > limits.max_tokens) {
        throw http_error(400, "max_tokens is " + std::to_string(max_tokens) + "; this server allows at most " +
                                  std::to_string(limits.max_tokens), "max_tokens");
    }
    call.params.max_tokens = max_tokens;
    auto & sp              = call.params.sampling;
    sp.temperature         = (float) num_field(body, "temperature", 1.0, 0.0, 1.0);
    sp.top_p               = (float) num_field(body, "top_p", 1.0, 0.0, 1.0);
    sp.top_k               = (int32_t) num_field(body, "top_k", 0, 0, 1000);
    sp.min_p               = 0.0f;
    if (body.contains("stop_sequences") && !body["stop_sequences"].is_null()) {
        if (!body["stop_sequences"].is_array()) throw http_error(400, "stop_sequences must be an array", "stop_sequences");
        for (const auto & s : body["stop_sequences"]) {
            if (!s.is_string()) throw http_error(400, "stop_sequences must hold strings", "stop_sequences");
            call.params.stop.push_back(s.get<std::string>());
        }
    }
    call.stream = bool_field(body, "stream", false);
    if (body.contains("tools") && !body["tools"].is_null()) {
        if (!body["tools"].is_array()) throw http_error(400, "tools must be an array", "tools");
        for (size_t i = 0; i < body["tools"].size(); ++i) {
            const json &      t = body["tools"][i];
            const std::string p = "tools[" + std::to_string(i) + "]";
            chat_tool tool;
            tool.name        = str_field(t, "name", p, true);
            tool.description = str_field(t, "description", p, false);
            tool.parameters  = obj_field(t, "input_schema", p, true).dump();
            call.request.tools.push_back(std::move(tool));
        }
    }
    if (body.contains("tool_choice") && !body["tool_choice"].is_null()) {
        const std::string type = str_field(body["tool_choice"], "type", "tool_choice", true);
        if (type == "auto") call.request.tool_choice = CHAT_TOOL_CHOICE_AUTO;
        else if (type == "none") call.request.tool_choice = CHAT_TOOL_CHOICE_NONE;
        else if (type == "any") call.request.tool_choice = CHAT_TOOL_CHOICE_REQUIRED;
        else if (type == "tool") {
            const std::string name = str_field(body["tool_choice"], "name", "tool_choice", true);
            tool_choice_force(call, name, "tool_choice.name");
        } else {
            throw http_error(400, "tool_choice.type must be auto, any, tool or none", "tool_choice.type");
        }
    }
    // Extended thinking is off unless asked for, as in Anthropic's API.
    call.request.enable_thinking = false;
    if (body.contains("thinking") && body["thinking"].is_object()) {
        const std::string type = str_field(body["thinking"], "type", "thinking", true);
        if (type == "enabled") {
            call.request.enable_thinking = true;
            call.request.think_budget    = (int32_t) num_field(body["thinking"], "budget_tokens", -1, 0, 1e9);
        } else if (type != "disabled") {
            throw http_error(400, "thinking.type must be enabled or disabled", "thinking.type");
        }
    }
    think_budget_for_constraints(call.request, call.params.max_tokens);
    call.timeout_secs = limits.timeout_secs;
    return call;
}

namespace {

const char * stop_reason_of(const choice_tracker & c, bool tool_use) {
    switch (c.reason) {
        case FINISH_REASON_LENGTH:
        case FINISH_REASON_CONTEXT: return "max_tokens";
        case FINISH_REASON_STOP_STRING: return "stop_sequence";
        default: return tool_use ? "tool_use" : "end_turn";
    }
}

json tool_input(const std::string & arguments) {
    json input = json::parse(arguments, nullptr, false);
    return input.is_object() ? input : json::object();
}

// Anthropic counts prompt tokens read from its cache apart from the input tokens.
json usage_json(chat_run & run) {
    return { { "input_tokens", run.j->prompt_tokens - run.j->cached_tokens },
             { "cache_creation_input_tokens", 0 },
             { "cache_read_input_tokens", run.j->cached_tokens },
             { "output_tokens", chat_run_completion_tokens(run) } };
}

std::string tool_use_id(const chat_tool_call & tc) {
    return tc.id.rfind("toolu_", 0) == 0 ? tc.id : id_make("toolu_");
}

}  // namespace

void messages_count_tokens_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller &) {
    json body = body_json(req);
    // The same body as /v1/messages, without max_tokens (nothing is generated).
    if (body.is_object() && !body.contains("max_tokens")) body["max_tokens"] = 1;
    const chat_call call = anthropic_parse(body, st.mdl, st.cfg.limits);
    res.set_content(json{ { "input_tokens", chat_call_prompt_tokens(st, call, "messages") } }.dump(), "application/json");
}

void messages_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who) {
    const json  body  = body_json(req);
    chat_call   call  = anthropic_parse(body, st.mdl, st.cfg.limits);
    if (const json mem = memory_context_apply(st, who, call, body); !mem.empty()) res.set_header("x-muse-memory", memory_used_header(mem));
    const std::string model = body.is_object() && body.contains("model") && body["model"].is_string() ?
                                  body["model"].get<std::string>() : st.cfg.model_id;
    if (const safety::verdict in = safety_input_check(st, who, call, "messages"); in.blocked()) {
        safety_refusal_send(st, res, WIRE_FORMAT_ANTHROPIC, in, call.stream, model);
        return;
    }
    const auto turns = safety_turns(call);
    auto run = chat_run_start(st, call, std::to_string(who.id));
    const std::string id = id_make("msg_");

    if (!call.stream) {
        deferred_json_send(
            res, run,
            [&st, run, id, model, who, turns] {
                chat_run_finish(st, *run);
                auto &              c = run->choices[0];
                const chat_parsed & p = c.final_parse();
                const safety::verdict v = safety_output_check(st, who, turns, p.reasoning + "\n" + p.content, "messages");
                if (v.blocked()) {
                    json out = { { "id", id }, { "type", "message" }, { "role", "assistant" }, { "model", model },
                                 { "content", json::array({ { { "type", "text" }, { "text", safety_reply_text(v) } } }) },
                                 { "stop_reason", "refusal" }, { "stop_sequence", nullptr }, { "usage", usage_json(*run) },
                                 { "muse", { { "safety", safety_json(st, v, safety::CHECK_POINT_OUTPUT) } } } };
                    return out.dump(-1, ' ', false, json::error_handler_t::replace);
                }
                json content = json::array();
                if (!p.reasoning.empty()) content.push_back({ { "type", "thinking" }, { "thinking", p.reasoning }, { "signature", "" } });
                if (const std::string text = p.content + v.note_suffix(); !text.empty()) {
                    content.push_back({ { "type", "text" }, { "text", text } });
                }
                for (const auto & tc : p.tool_calls) {
                    content.push_back({ { "type", "tool_use" }, { "id", tool_use_id(tc) }, { "name", tc.name }, { "input", tool_input(tc.arguments) } });
                }
                json out = { { "id", id }, { "type", "message" }, { "role", "assistant" }, { "model", model },
                             { "content", content }, { "stop_reason", stop_reason_of(c, !p.tool_calls.empty()) },
                             { "stop_sequence", nullptr },
                             { "usage", usage_json(*run) } };
                if (!v.category.empty()) out["muse"]["safety"] = safety_json(st, v, safety::CHECK_POINT_OUTPUT);
                return out.dump(-1, ' ', false, json::error_handler_t::replace);
            },
            [](const http_error & e) { return error_body(e, WIRE_FORMAT_ANTHROPIC); });
        return;
    }

    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [&st, run, id, model, who, turns](size_t, httplib::DataSink & sink) {
            try {
                safety_stream   check(st, who, turns, "messages");
                safety::verdict stopped;  // blocking: the stream sends nothing more of the answer
                bool ok = sse_write(sink, { { "type", "message_start" },
                                            { "message", { { "id", id }, { "type", "message" }, { "role", "assistant" },
                                                           { "model", model }, { "content", json::array() },
                                                           { "stop_reason", nullptr }, { "stop_sequence", nullptr },
                                                           { "usage", { { "input_tokens", 0 }, { "output_tokens", 0 } } } } } },
                                    "message_start");
                int         index = -1;
                std::string open;  // "thinking" or "text": the block being streamed
                auto block_close = [&] {
                    if (open.empty()) return;
                    ok = ok && sse_write(sink, { { "type", "content_block_stop" }, { "index", index } }, "content_block_stop");
                    open.clear();
                };
                auto block_open = [&](const std::string & type, json block) {
                    block_close();
                    ++index;
                    open = type;
                    ok   = ok && sse_write(sink, { { "type", "content_block_start" }, { "index", index }, { "content_block", block } },
                                           "content_block_start");
                };
                auto send = [&](const std::string & type, const std::string & text) {
                    if (text.empty()) return;
                    if (open != type) {
                        block_open(type, type == "thinking" ? json{ { "type", "thinking" }, { "thinking", "" }, { "signature", "" } } :
                                                              json{ { "type", "text" }, { "text", "" } });
                    }
                    const json delta = type == "thinking" ? json{ { "type", "thinking_delta" }, { "thinking", text } } :
                                                            json{ { "type", "text_delta" }, { "text", text } };
                    ok = ok && sse_write(sink, { { "type", "content_block_delta" }, { "index", index }, { "delta", delta } },
                                         "content_block_delta");
                };
                chat_run_sink s;
                s.delta = [&](int, const choice_tracker::delta & d) {
                    if (stopped.blocked()) return;
                    stopped = check.push(d.reasoning + d.content);
                    if (stopped.blocked()) {
                        run->j->cancel();
                        return;
                    }
                    send("thinking", d.reasoning);
                    send("text", d.content);
                    // Tool calls as they are generated: a tool_use block per call, its input as
                    // input_json_delta pieces (their concatenation is the input's JSON).
                    for (const auto & tc : d.tool_calls) {
                        if (tc.first) {
                            const std::string tid = tool_use_id({ tc.id, tc.name, "" });
                            block_open("tool_use", { { "type", "tool_use" }, { "id", tid }, { "name", tc.name }, { "input", json::object() } });
                        }
                        if (tc.arguments.empty()) continue;
                        ok = ok && sse_write(sink, { { "type", "content_block_delta" }, { "index", index },
                                                     { "delta", { { "type", "input_json_delta" }, { "partial_json", tc.arguments } } } },
                                             "content_block_delta");
                    }
                };
                while (ok && chat_run_pump(*run, s, pump_wait)) {
                }
                if (!ok) {
                    run->j->cancel();
                    return false;
                }
                if (!stopped.blocked()) {
                    try {
                        chat_run_finish(st, *run);
                    } catch (const http_error & e) {
                        stream_error_end(sink, e, WIRE_FORMAT_ANTHROPIC);
                        return true;
                    }
                    stopped = check.finish();
                }
                auto &              c = run->choices[0];
                const chat_parsed & p = c.final_parse();
                // The policy's reply (a refusal, crisis resources) or a warning's note ends the text.
                if (stopped.blocked()) {
                    block_close();
                    send("text", safety_reply_text(stopped));
                } else {
                    send("text", stopped.note_suffix());
                }
                block_close();
                json delta_msg = { { "type", "message_delta" },
                                   { "delta", { { "stop_reason", stopped.blocked() ? "refusal" : stop_reason_of(c, !p.tool_calls.empty()) },
                                                { "stop_sequence", nullptr } } },
                                   { "usage", usage_json(*run) } };
                if (!stopped.category.empty()) delta_msg["muse"] = { { "safety", safety_json(st, stopped, safety::CHECK_POINT_OUTPUT) } };
                ok = ok && sse_write(sink, delta_msg, "message_delta");
                ok = ok && sse_write(sink, { { "type", "message_stop" } }, "message_stop");
                sink.done();
                return ok;
            } catch (const std::exception & e) {
                stream_failure_end(sink, e, WIRE_FORMAT_ANTHROPIC);
                return true;
            }
        },
        [run](bool success) {
            if (!success) run->j->cancel();
        });
}

}  // namespace muse::server
