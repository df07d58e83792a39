#include "server/openai-chat.h"

#include "engine/model.h"
#include "server/http-error.h"
#include "server/json-fields.h"

#include <algorithm>

namespace muse::server {

using json = nlohmann::json;

namespace {

std::string content_text(const json & content, const std::string & where) {
    if (content.is_null()) return "";
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array()) throw http_error(400, where + " must be a string or an array of parts", where);
    std::string out;
    for (size_t i = 0; i < content.size(); ++i) {
        const json & part = content[i];
        const std::string p = where + "[" + std::to_string(i) + "]";
        if (!part.is_object() || str_field(part, "type", p, true) != "text") {
            throw http_error(400, p + ": only text parts are allowed here", p);
        }
        out += str_field(part, "text", p, true);
    }
    return out;
}

std::vector<chat_part> content_parts(const json & content, const std::string & where, chat_call & call,
                                     const model & mdl, const server_limits & limits, const file_reader & files) {
    std::vector<chat_part> parts;
    for (size_t i = 0; i < content.size(); ++i) {
        const json &      part = content[i];
        const std::string p    = where + "[" + std::to_string(i) + "]";
        if (!part.is_object()) throw http_error(400, p + " must be an object", p);
        const std::string type = str_field(part, "type", p, true);
        chat_part         cp;
        if (type == "text") {
            cp.text = str_field(part, "text", p, true);
        } else if (type == "image_url") {
            const json & iu = obj_field(part, "image_url", p, true);
            const std::string url = str_field(iu, "url", p + ".image_url", true);
            const std::string up  = p + ".image_url.url";
            std::string bytes;
            if (url.rfind("data:", 0) == 0) {
                const size_t comma = url.find(',');
                if (comma == std::string::npos || url.substr(0, comma).find(";base64") == std::string::npos) {
                    throw http_error(400, up + ": a data URL must be base64 (data:image/png;base64,...)", up);
                }
                bytes = base64_decode(url.substr(comma + 1), up);
            } else if (url.rfind("file-", 0) == 0) {
                auto f = files(url);
                if (!f) throw http_error(404, up + ": no file " + url, up, "file_not_found");
                bytes = std::move(*f);
            } else {
                throw http_error(400, up + ": muse fetches nothing from the network; send a data: URL or an uploaded file id",
                                 up, "remote_url");
            }
            if (!mdl.projector() && limits.images_for_tools) {
                cp.text = image_add_for_tools(call, std::move(bytes), up, limits);
            } else {
                cp.type        = CHAT_PART_TYPE_MEDIA;
                cp.media_index = media_add(call, mdl, std::move(bytes), up, limits);
            }
        } else if (type == "input_audio") {
            const json & ia = obj_field(part, "input_audio", p, true);
            cp.type        = CHAT_PART_TYPE_MEDIA;
            cp.media_index = media_add(call, mdl, base64_decode(str_field(ia, "data", p + ".input_audio", true),
                                                                p + ".input_audio.data"),
                                       p + ".input_audio", limits);
        } else {
            throw http_error(400, p + ": unknown part type '" + type + "' (text, image_url, input_audio)", p + ".type");
        }
        parts.push_back(std::move(cp));
    }
    return parts;
}

}  // namespace

void openai_messages_read(const json & messages, const std::string & where, chat_call & call, const model & mdl,
                          const server_limits & limits, const file_reader & files) {
    if (!messages.is_array()) throw http_error(400, where + " must be an array of messages", where);
    for (size_t i = 0; i < messages.size(); ++i) {
        const json &      m = messages[i];
        const std::string p = where + "[" + std::to_string(i) + "]";
        if (!m.is_object()) throw http_error(400, p + " must be an object", p);
        chat_message msg;
        msg.role = str_field(m, "role", p, true);
        if (msg.role == "developer") msg.role = "system";
        if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" && msg.role != "tool") {
            throw http_error(400, p + ".role: unknown role '" + msg.role + "' (system, developer, user, assistant, tool)",
                             p + ".role");
        }
        const json content = m.contains("content") ? m["content"] : json();
        if (msg.role == "user" && content.is_array()) {
            msg.parts = content_parts(content, p + ".content", call, mdl, limits, files);
        } else {
            msg.content = content_text(content, p + ".content");
        }
        if (msg.role == "assistant") {
            msg.reasoning = str_field(m, "reasoning_content", p, false);
            if (m.contains("tool_calls") && !m["tool_calls"].is_null()) {
                const json & tcs = m["tool_calls"];
                if (!tcs.is_array()) throw http_error(400, p + ".tool_calls must be an array", p + ".tool_calls");
                for (size_t k = 0; k < tcs.size(); ++k) {
                    const std::string tp = p + ".tool_calls[" + std::to_string(k) + "]";
                    const json & fn = obj_field(tcs[k], "function", tp, true);
                    chat_tool_call tc;
                    tc.id        = str_field(tcs[k], "id", tp, false);
                    tc.name      = str_field(fn, "name", tp + ".function", true);
                    tc.arguments = str_field(fn, "arguments", tp + ".function", false);
                    msg.tool_calls.push_back(std::move(tc));
                }
            }
        }
        if (msg.role == "tool") {
            msg.tool_call_id = str_field(m, "tool_call_id", p, false);
            msg.tool_name    = str_field(m, "name", p, false);
        }
        call.request.messages.push_back(std::move(msg));
    }
}

chat_call openai_chat_parse(const json & body, const model & mdl, const server_limits & limits, const file_reader & files,
                            const json & history) {
    if (!body.is_object()) throw http_error(400, "the request body must be a JSON object");
    chat_call call;
    if (!body.contains("messages")) throw http_error(400, "messages is required", "messages");
    const json & messages = body["messages"];
    // Empty only to regenerate: a stored conversation's branch that ends with the user's turn.
    const bool regenerate = !history.empty() && history.back().is_object() && history.back().value("role", "") == "user";
    if (!messages.is_array() || (messages.empty() && !regenerate)) {
        throw http_error(400, "messages must be a non-empty array (empty only with muse.conversation_id, to answer "
                              "again a branch that ends with a user message)", "messages");
    }
    if ((int) (messages.size() + history.size()) > limits.max_messages) {
        throw http_error(400, "too many messages (" + std::to_string(messages.size() + history.size()) +
                                  "); the server takes at most " + std::to_string(limits.max_messages),
                         "messages", "too_many_messages");
    }
    if (!history.empty()) openai_messages_read(history, "conversation", call, mdl, limits, files);
    openai_messages_read(messages, "messages", call, mdl, limits, files);
    call.new_messages = messages;

    // Sampling and limits.
    auto & sp       = call.params.sampling;
    sp.temperature  = (float) num_field(body, "temperature", 1.0, 0.0, 2.0);
    sp.top_p        = (float) num_field(body, "top_p", 1.0, 0.0, 1.0);
    sp.top_k        = (int32_t) num_field(body, "top_k", 0, 0, 1000);
    sp.min_p        = (float) num_field(body, "min_p", 0.0, 0.0, 1.0);
    sp.presence_penalty  = (float) num_field(body, "presence_penalty", 0.0, -2.0, 2.0);
    sp.frequency_penalty = (float) num_field(body, "frequency_penalty", 0.0, -2.0, 2.0);
    if (body.contains("seed") && !body["seed"].is_null()) {
        sp.seed = (uint32_t) (int64_t) num_field(body, "seed", 0, -2147483648.0, 4294967294.0);
    }
    sp.ignore_eos = bool_field(body, "ignore_eos", false);
    int32_t max_tokens = limits.max_tokens;
    for (const char * key : { "max_tokens", "max_completion_tokens" }) {
        if (body.contains(key) && !body[key].is_null()) {
            max_tokens = (int32_t) num_field(body, key, 0, 1, 1e9);
            if (max_tokens > limits.max_tokens) {
                throw http_error(400, std::string(key) + " is " + std::to_string(max_tokens) + "; this server allows at most " +
                                          std::to_string(limits.max_tokens) + " (its --max-tokens)", key, "max_tokens_exceeded");
            }
        }
    }
    call.params.max_tokens = max_tokens;
    if (body.contains("stop") && !body["stop"].is_null()) {
        const json & stop = body["stop"];
        if (stop.is_string()) {
            call.params.stop.push_back(stop.get<std::string>());
        } else if (stop.is_array() && stop.size() <= 16) {
            for (const auto & s : stop) {
                if (!s.is_string()) throw http_error(400, "stop must hold strings", "stop");
                call.params.stop.push_back(s.get<std::string>());
            }
        } else {
            throw http_error(400, "stop must be a string or an array of up to 16 strings", "stop");
        }
    }
    // Log-probabilities of each generated token and, with top_logprobs, of its likeliest rivals.
    if (bool_field(body, "logprobs", false)) {
        call.top_logprobs        = (int) num_field(body, "top_logprobs", 0, 0, 20);
        call.params.top_logprobs = std::max(call.top_logprobs, 1);  // the engine reports logprob with its top list
    } else if (body.contains("top_logprobs") && !body["top_logprobs"].is_null()) {
        throw http_error(400, "top_logprobs needs logprobs: true", "top_logprobs");
    }
    call.n      = (int) num_field(body, "n", 1, 1, 16);
    call.stream = bool_field(body, "stream", false);
    if (body.contains("stream_options") && body["stream_options"].is_object()) {
        call.include_usage = bool_field(body["stream_options"], "include_usage", false);
    }

    // Tools.
    if (body.contains("tools") && !body["tools"].is_null()) {
        const json & tools = body["tools"];
        if (!tools.is_array()) throw http_error(400, "tools must be an array", "tools");
        for (size_t i = 0; i < tools.size(); ++i) {
            const std::string p  = "tools[" + std::to_string(i) + "]";
            const json &      fn = obj_field(tools[i], "function", p, true);
            chat_tool t;
            t.name        = str_field(fn, "name", p + ".function", true);
            t.description = str_field(fn, "description", p + ".function", false);
            t.parameters  = fn.contains("parameters") ? fn["parameters"].dump() : R"({"type":"object","properties":{}})";
            call.request.tools.push_back(std::move(t));
        }
    }
    if (body.contains("tool_choice") && !body["tool_choice"].is_null()) {
        const json & tc = body["tool_choice"];
        if (tc.is_string()) {
            const std::string v = tc.get<std::string>();
            if (v == "auto") call.request.tool_choice = CHAT_TOOL_CHOICE_AUTO;
            else if (v == "none") call.request.tool_choice = CHAT_TOOL_CHOICE_NONE;
            else if (v == "required") call.request.tool_choice = CHAT_TOOL_CHOICE_REQUIRED;
            else throw http_error(400, "tool_choice must be auto, none, required or a function", "tool_choice");
        } else if (tc.is_object()) {
            const std::string name = str_field(obj_field(tc, "function", "tool_choice", true), "name", "tool_choice.function", true);
            tool_choice_force(call, name, "tool_choice");
        } else {
            throw http_error(400, "tool_choice must be a string or an object", "tool_choice");
        }
    }
    call.request.parallel_tool_calls = bool_field(body, "parallel_tool_calls", true);
    // llama-server's extension: variables for the chat template, e.g. {"current_date": "2026-01-31"}
    // for Muse Glimmer, whose template states today's date otherwise.
    for (const auto & [name, value] : obj_field(body, "chat_template_kwargs", "", false).items()) {
        call.request.template_kwargs[name] = value.dump();
    }

    // Structured output.
    if (body.contains("response_format") && !body["response_format"].is_null()) {
        const json &      rf   = body["response_format"];
        const std::string type = str_field(rf, "type", "response_format", true);
        if (type == "json_object") {
            call.request.json_schema = R"({"type":"object"})";
        } else if (type == "json_schema") {
            const json & js = obj_field(rf, "json_schema", "response_format", true);
            if (!js.contains("schema") || !js["schema"].is_object()) {
                throw http_error(400, "response_format.json_schema.schema must be an object", "response_format.json_schema.schema");
            }
            call.request.json_schema = js["schema"].dump();
        } else if (type != "text") {
            throw http_error(400, "response_format.type must be text, json_object or json_schema", "response_format.type");
        }
    }

    // Modes: reasoning_effort, then muse's own extension.
    reason::reason_mode mode = mdl.info().has_reasoning ? reason::REASON_MODE_THINKING : reason::REASON_MODE_INSTANT;
    if (body.contains("reasoning_effort") && body["reasoning_effort"].is_string()) {
        const std::string e = body["reasoning_effort"].get<std::string>();
        mode = (e == "none" || e == "minimal") ? reason::REASON_MODE_INSTANT : reason::REASON_MODE_THINKING;
    }
    auto & rp = call.reason;
    if (body.contains("muse") && !body["muse"].is_null()) {
        const json & mx = body["muse"];
        if (!mx.is_object()) throw http_error(400, "muse must be an object", "muse");
        if (mx.contains("mode")) {
            try {
                mode = reason::reason_mode_parse(str_field(mx, "mode", "muse", true));
            } catch (const std::exception & e) {
                throw http_error(400, std::string("muse.mode: ") + e.what(), "muse.mode");
            }
        }
        rp.agents = (int32_t) num_field(mx, "agents", 4, 1, 16);
        if (mx.contains("aggregate")) {
            try {
                rp.aggregate = reason::aggregate_kind_parse(str_field(mx, "aggregate", "muse", true));
            } catch (const std::exception & e) {
                throw http_error(400, std::string("muse.aggregate: ") + e.what(), "muse.aggregate");
            }
        }
        rp.perspectives          = bool_field(mx, "perspectives", false);
        rp.max_subtasks          = (int32_t) num_field(mx, "max_subtasks", 4, 1, 8);
        rp.total_budget          = (int32_t) num_field(mx, "total_budget", -1, -1, 1e9);
        call.request.think_budget = (int32_t) num_field(mx, "think_budget", -1, -1, 1e9);
        call.conversation_id     = str_field(mx, "conversation_id", "muse", false);
        call.timeout_secs        = num_field(mx, "timeout", 0, 0, 1e9);
    }
    if (call.timeout_secs <= 0 || call.timeout_secs > limits.timeout_secs) call.timeout_secs = limits.timeout_secs;
    call.request.enable_thinking = mode != reason::REASON_MODE_INSTANT;
    think_budget_for_constraints(call.request, max_tokens);
    if (mode == reason::REASON_MODE_CONTEMPLATE || mode == reason::REASON_MODE_ORCHESTRATE) {
        if (call.n != 1) throw http_error(400, "n must be 1 with muse.mode " + std::string(reason::reason_mode_name(mode)), "n");
        if (call.top_logprobs >= 0) {
            throw http_error(400, "logprobs are per token of one answer; muse.mode " + std::string(reason::reason_mode_name(mode)) +
                                      " combines several agents, so it has none", "logprobs");
        }
        call.reasoning_mode = true;
        rp.mode         = mode;
        rp.sampling     = sp;
        rp.max_tokens   = max_tokens;
        rp.think_budget = call.request.think_budget;
        rp.stop         = call.params.stop;
        try {
            rp.validate();
        } catch (const std::exception & e) {
            throw http_error(400, std::string("muse: ") + e.what(), "muse");
        }
    }
    return call;
}

// A cut-off answer is "length" even when it began a tool call (its arguments are incomplete).
const char * openai_finish_reason(finish_reason reason, bool has_tool_calls) {
    switch (reason) {
        case FINISH_REASON_LENGTH:
        case FINISH_REASON_CONTEXT: return "length";
        default: return has_tool_calls ? "tool_calls" : "stop";
    }
}

json openai_tool_calls(const std::vector<chat_tool_call> & calls) {
    json out = json::array();
    for (size_t i = 0; i < calls.size(); ++i) {
        const auto & c = calls[i];
        out.push_back({ { "id", c.id.empty() ? "call_" + std::to_string(i) : c.id },
                        { "type", "function" },
                        { "function", { { "name", c.name }, { "arguments", c.arguments } } } });
    }
    return out;
}

}  // namespace muse::server
