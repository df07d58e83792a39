// The OpenAI Responses API: POST /v1/responses (stream and not), GET and DELETE
// /v1/responses/{id}. A response runs the agent loop: client-side function tools end it with
// function_call items, built-in tools run on the server — code_interpreter as muse's python
// sandbox, mcp as the operator's MCP servers, and muse's own (artifacts, spawn_agent) named
// in the `muse.tools` extension. previous_response_id continues a stored response's
// conversation (and its workspace: files and artifacts).
#include "server/agent-run.h"
#include "server/memory-context.h"
#include "server/chat-run.h"
#include "server/json-fields.h"
#include "server/openai-chat.h"
#include "server/responses-input.h"
#include "server/safety-gate.h"
#include "server/wire-util.h"
#include "agent/sandbox/unique-fd.h"

#include <sodium.h>

#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <fstream>

namespace muse::server {

using json = nlohmann::json;

namespace {

// What `final` adds to `shown` when it goes on from it ("" when it does not): the part of a
// closing item's text or arguments the stream had not sent yet.
std::string text_growth(const std::string & final, const std::string & shown) {
    if (final.size() <= shown.size() || final.compare(0, shown.size(), shown) != 0) return "";
    return final.substr(shown.size());
}

// Which kind of output item a call of `name` is.
enum item_kind { ITEM_FUNCTION_CALL, ITEM_CODE_INTERPRETER, ITEM_MCP, ITEM_MUSE_TOOL };

// Builds the response's output items as the loop goes, and streams each change as a
// Responses event when a sink is given. The non-streaming answer runs the same code without a
// sink, so both end with the same output.
class response_emitter {
  public:
    response_emitter(std::string response_id, httplib::DataSink * sink, std::set<std::string> server_tools,
                     std::set<std::string> mcp_tools) :
        rid_(std::move(response_id)), sink_(sink), server_(std::move(server_tools)), mcp_(std::move(mcp_tools)) {}

    json output = json::array();
    bool ok     = true;  // false once the client is gone

    void event(const char * type, json data) {
        if (!sink_ || !ok) return;
        data["type"]            = type;
        data["sequence_number"] = seq_++;
        ok = sse_write(*sink_, data, type);
    }

    // An SSE comment (clients skip it): keeps the stream alive while tools run, and a failed
    // write tells that the client left.
    void keep_alive() {
        if (!sink_ || !ok) return;
        static const std::string ping = ": muse: tools running\n\n";
        ok = sink_->write(ping.data(), ping.size());
    }

    void text(int step, const std::string & reasoning, const std::string & content) {
        step_begin(step);
        if (!reasoning.empty()) {
            if (reasoning_ < 0) reasoning_open();
            reasoning_text_ += reasoning;
            event("response.reasoning_text.delta", { { "item_id", id_of(reasoning_) }, { "output_index", reasoning_ },
                                                     { "content_index", 0 }, { "delta", reasoning } });
        }
        if (!content.empty()) {
            reasoning_close(std::nullopt);
            if (message_ < 0) message_open();
            message_text_ += content;
            event("response.output_text.delta", { { "item_id", id_of(message_) }, { "output_index", message_ },
                                                  { "content_index", 0 }, { "delta", content }, { "logprobs", json::array() } });
        }
    }

    void call_generated(int step, const agent::call_delta & d) {
        step_begin(step);
        if (d.first) {
            reasoning_close(std::nullopt);
            message_close(std::nullopt);
            call_open(d.name);
        }
        if (calls_.empty()) return;
        const int idx = calls_.back();
        const std::string type = output[(size_t) idx]["type"];
        if (d.arguments.empty() || type == "code_interpreter_call") return;  // its code comes whole, at the step's end
        output[(size_t) idx]["arguments"] = output[(size_t) idx]["arguments"].get<std::string>() + d.arguments;
        const char * ev = type == "function_call" ? "response.function_call_arguments.delta"
                        : type == "mcp_call"      ? "response.mcp_call_arguments.delta"
                                                  : "response.muse_tool_call_arguments.delta";
        event(ev, { { "item_id", id_of(idx) }, { "output_index", idx }, { "delta", d.arguments } });
    }

    void step_finished(int step, const chat_parsed & p) {
        step_begin(step);
        if (!p.reasoning.empty() && reasoning_ < 0 && message_ < 0 && calls_.empty()) reasoning_open();
        reasoning_close(p.reasoning);
        if (!p.content.empty() && message_ < 0 && calls_.empty()) message_open();
        message_close(p.content);
        // Calls the stream did not show as they were generated.
        while (calls_.size() < p.tool_calls.size()) call_open(p.tool_calls[calls_.size()].name);
        // Calls it showed that were cut off by max_output_tokens: not run, left incomplete.
        for (size_t i = p.tool_calls.size(); i < calls_.size(); ++i) {
            json & item     = output[(size_t) calls_[i]];
            item["status"]  = "incomplete";
            event("response.output_item.done", { { "output_index", calls_[i] }, { "item", item } });
        }
        for (size_t i = 0; i < p.tool_calls.size() && i < calls_.size(); ++i) {
            const auto & c    = p.tool_calls[i];
            json &       item = output[(size_t) calls_[i]];
            const std::string type = item["type"];
            if (type == "function_call") {
                const std::string rest = text_growth(c.arguments, item["arguments"]);
                if (!rest.empty()) {
                    event("response.function_call_arguments.delta",
                          { { "item_id", id_of(calls_[i]) }, { "output_index", calls_[i] }, { "delta", rest } });
                }
                item["arguments"] = c.arguments;
                item["call_id"]   = c.id;
                item["status"]    = "completed";
                event("response.function_call_arguments.done",
                      { { "item_id", id_of(calls_[i]) }, { "output_index", calls_[i] }, { "arguments", c.arguments } });
                event("response.output_item.done", { { "output_index", calls_[i] }, { "item", item } });
            } else {
                pending_builtin_.push_back(calls_[i]);
                if (type == "code_interpreter_call") {
                    json args = json::parse(c.arguments, nullptr, false);
                    item["code"] = args.is_object() && args.contains("code") && args["code"].is_string() ? args["code"] : json("");
                    event("response.code_interpreter_call_code.delta", { { "item_id", id_of(calls_[i]) }, { "output_index", calls_[i] }, { "delta", item["code"] } });
                    event("response.code_interpreter_call_code.done", { { "item_id", id_of(calls_[i]) }, { "output_index", calls_[i] }, { "code", item["code"] } });
                    event("response.code_interpreter_call.interpreting", { { "item_id", id_of(calls_[i]) }, { "output_index", calls_[i] } });
                } else {
                    const std::string rest = text_growth(c.arguments, item["arguments"]);
                    if (!rest.empty()) {
                        event(type == "mcp_call" ? "response.mcp_call_arguments.delta" : "response.muse_tool_call_arguments.delta",
                              { { "item_id", id_of(calls_[i]) }, { "output_index", calls_[i] }, { "delta", rest } });
                    }
                    item["arguments"] = c.arguments;
                    event(type == "mcp_call" ? "response.mcp_call_arguments.done" : "response.muse_tool_call_arguments.done",
                          { { "item_id", id_of(calls_[i]) }, { "output_index", calls_[i] }, { "arguments", c.arguments } });
                }
            }
        }
    }

    void call_finished(const agent::call_record & r) {
        if (pending_builtin_.empty()) return;
        const int idx = pending_builtin_.front();
        pending_builtin_.erase(pending_builtin_.begin());
        json &       item = output[(size_t) idx];
        const bool   ok_  = r.outcome == agent::CALL_OUTCOME_OK;
        const std::string type = item["type"];
        item["status"] = ok_ ? "completed" : "failed";
        if (type == "code_interpreter_call") {
            json outs = json::array();
            if (!r.result.text.empty()) outs.push_back({ { "type", "logs" }, { "logs", r.result.text } });
            for (const auto & img : r.result.images) {
                outs.push_back({ { "type", "image" }, { "url", "data:" + img.mime + ";base64," + base64_encode(img.bytes) } });
            }
            item["outputs"] = std::move(outs);
            if (!r.result.files.empty()) {
                json files = json::array();
                for (const auto & f : r.result.files) files.push_back({ { "path", "/mnt/data/" + f.path }, { "bytes", f.bytes } });
                item["muse"] = { { "files", files } };
            }
            event("response.code_interpreter_call.completed", { { "item_id", id_of(idx) }, { "output_index", idx } });
        } else if (type == "mcp_call") {
            item["output"] = ok_ ? json(r.result.text) : json(nullptr);
            item["error"]  = ok_ ? json(nullptr) : json(r.result.text);
            event(ok_ ? "response.mcp_call.completed" : "response.mcp_call.failed", { { "item_id", id_of(idx) }, { "output_index", idx } });
        } else {
            item["output"] = r.result.text;
            item["outcome"] = agent::call_outcome_name(r.outcome);
            item["detail"] = r.result.detail;
            if (!r.result.images.empty()) {  // a crop, an annotated copy: the numbers later calls name them by
                json imgs = json::array();
                for (const auto & img : r.result.images) {
                    imgs.push_back({ { "number", img.number }, { "name", img.name },
                                     { "url", "data:" + img.mime + ";base64," + base64_encode(img.bytes) } });
                }
                item["images"] = std::move(imgs);
            }
        }
        event("response.output_item.done", { { "output_index", idx }, { "item", item } });
    }

    // The policy's reply in place of the answer: a message whose content is a "refusal" part.
    void refusal(const std::string & text) {
        reasoning_close(std::nullopt);
        message_close(std::nullopt);
        const int idx = (int) output.size();
        json item = { { "id", new_id("msg_") }, { "type", "message" }, { "role", "assistant" }, { "status", "in_progress" },
                      { "content", json::array() } };
        output.push_back(item);
        event("response.output_item.added", { { "output_index", idx }, { "item", item } });
        const json part = { { "type", "refusal" }, { "refusal", text } };
        event("response.content_part.added", { { "item_id", id_of(idx) }, { "output_index", idx }, { "content_index", 0 },
                                               { "part", { { "type", "refusal" }, { "refusal", "" } } } });
        event("response.refusal.delta", { { "item_id", id_of(idx) }, { "output_index", idx }, { "content_index", 0 }, { "delta", text } });
        event("response.refusal.done", { { "item_id", id_of(idx) }, { "output_index", idx }, { "content_index", 0 }, { "refusal", text } });
        event("response.content_part.done", { { "item_id", id_of(idx) }, { "output_index", idx }, { "content_index", 0 }, { "part", part } });
        json & done    = output[(size_t) idx];
        done["content"] = json::array({ part });
        done["status"]  = "completed";
        event("response.output_item.done", { { "output_index", idx }, { "item", done } });
    }

  private:
    std::string id_of(int idx) const { return output[(size_t) idx]["id"]; }
    std::string new_id(const char * prefix) { return std::string(prefix) + rid_.substr(5) + "_" + std::to_string(output.size()); }

    void step_begin(int step) {
        if (step == step_) return;
        step_ = step;
        reasoning_ = message_ = -1;
        reasoning_text_.clear();
        message_text_.clear();
        calls_.clear();
    }
    int add(json item) {
        const int idx = (int) output.size();
        output.push_back(item);
        event("response.output_item.added", { { "output_index", idx }, { "item", item } });
        return idx;
    }
    void reasoning_open() {
        reasoning_ = add({ { "type", "reasoning" }, { "id", new_id("rs_") }, { "summary", json::array() },
                           { "content", json::array() }, { "status", "in_progress" } });
    }
    void reasoning_close(const std::optional<std::string> & final_text) {
        if (reasoning_ < 0) return;
        if (const std::string rest = final_text ? text_growth(*final_text, reasoning_text_) : ""; !rest.empty()) {
            event("response.reasoning_text.delta", { { "item_id", id_of(reasoning_) }, { "output_index", reasoning_ },
                                                     { "content_index", 0 }, { "delta", rest } });
        }
        const std::string text = final_text ? *final_text : reasoning_text_;
        json & item = output[(size_t) reasoning_];
        if (item["status"] == "completed") return;
        item["content"] = json::array({ { { "type", "reasoning_text" }, { "text", text } } });
        item["status"]  = "completed";
        event("response.reasoning_text.done", { { "item_id", id_of(reasoning_) }, { "output_index", reasoning_ }, { "content_index", 0 }, { "text", text } });
        event("response.output_item.done", { { "output_index", reasoning_ }, { "item", item } });
    }
    void message_open() {
        message_ = add({ { "type", "message" }, { "id", new_id("msg_") }, { "role", "assistant" },
                         { "status", "in_progress" }, { "content", json::array() } });
        event("response.content_part.added", { { "item_id", id_of(message_) }, { "output_index", message_ }, { "content_index", 0 },
                                                { "part", { { "type", "output_text" }, { "text", "" }, { "annotations", json::array() } } } });
    }
    void message_close(const std::optional<std::string> & final_text) {
        if (message_ < 0) return;
        json & item = output[(size_t) message_];
        if (item["status"] == "completed") return;
        if (const std::string rest = final_text ? text_growth(*final_text, message_text_) : ""; !rest.empty()) {
            event("response.output_text.delta", { { "item_id", id_of(message_) }, { "output_index", message_ }, { "content_index", 0 },
                                                  { "delta", rest }, { "logprobs", json::array() } });
        }
        const std::string text = final_text ? *final_text : message_text_;
        json part = { { "type", "output_text" }, { "text", text }, { "annotations", json::array() }, { "logprobs", json::array() } };
        item["content"] = json::array({ part });
        item["status"]  = "completed";
        event("response.output_text.done", { { "item_id", id_of(message_) }, { "output_index", message_ }, { "content_index", 0 },
                                              { "text", text }, { "logprobs", json::array() } });
        event("response.content_part.done", { { "item_id", id_of(message_) }, { "output_index", message_ }, { "content_index", 0 }, { "part", part } });
        event("response.output_item.done", { { "output_index", message_ }, { "item", item } });
    }
    void call_open(const std::string & name) {
        json item;
        if (!server_.count(name)) {
            item = { { "type", "function_call" }, { "id", new_id("fc_") }, { "call_id", "" }, { "name", name },
                     { "arguments", "" }, { "status", "in_progress" } };
        } else if (name == "python") {
            item = { { "type", "code_interpreter_call" }, { "id", new_id("ci_") }, { "code", "" }, { "container_id", "" },
                     { "outputs", json::array() }, { "status", "in_progress" } };
        } else if (mcp_.count(name)) {
            const size_t dot = name.find('.');
            item = { { "type", "mcp_call" }, { "id", new_id("mcp_") },
                     { "server_label", dot == std::string::npos ? "" : name.substr(0, dot) },
                     { "name", dot == std::string::npos ? name : name.substr(dot + 1) },
                     { "arguments", "" }, { "output", nullptr }, { "error", nullptr }, { "status", "in_progress" } };
        } else {
            item = { { "type", "muse_tool_call" }, { "id", new_id("mt_") }, { "name", name }, { "arguments", "" },
                     { "output", nullptr }, { "status", "in_progress" } };
        }
        calls_.push_back(add(item));
    }

    std::string           rid_;
    httplib::DataSink *   sink_;
    std::set<std::string> server_, mcp_;
    int64_t               seq_ = 0;
    int                   step_ = -1, reasoning_ = -1, message_ = -1;
    std::string           reasoning_text_, message_text_;
    std::vector<int>      calls_;            // this step's call items, in call order
    std::vector<int>      pending_builtin_;  // server-side call items waiting for their result
};

// The loop's messages as OpenAI chat messages (the stored history of a response).
json chat_messages_json(const std::vector<chat_message> & msgs) {
    json out = json::array();
    for (const auto & m : msgs) {
        if (m.role == "tool") {
            out.push_back({ { "role", "tool" }, { "tool_call_id", m.tool_call_id }, { "content", m.content } });
            continue;
        }
        json j = { { "role", m.role }, { "content", m.content } };
        if (!m.reasoning.empty()) j["reasoning_content"] = m.reasoning;
        if (!m.tool_calls.empty()) {
            j["tool_calls"] = openai_tool_calls(m.tool_calls);
            if (m.content.empty()) j["content"] = nullptr;
        }
        out.push_back(std::move(j));
    }
    return out;
}

struct responses_request {
    json                     chat;            // the chat completions body it means
    std::vector<std::string> server_tools;    // python, mcp, artifacts, spawn_agent
    std::vector<std::string> file_ids;        // code_interpreter container files for /mnt/data
    std::string              forced_builtin;  // a tool_choice naming a built-in tool
};

// Splits the built-in tools off the request and maps the Responses fields onto chat's.
responses_request responses_read(const json & body) {
    if (!body.is_object()) throw http_error(400, "the request body must be a JSON object");
    responses_request rr;
    json              stripped = body;
    json              functions = json::array();
    if (body.contains("tools") && !body["tools"].is_null()) {
        if (!body["tools"].is_array()) throw http_error(400, "tools must be an array", "tools");
        for (size_t i = 0; i < body["tools"].size(); ++i) {
            const json &      t    = body["tools"][i];
            const std::string p    = "tools[" + std::to_string(i) + "]";
            const std::string type = str_field(t, "type", p, true);
            if (type == "function") {
                functions.push_back(t);
            } else if (type == "code_interpreter") {
                rr.server_tools.push_back("python");
                if (t.contains("container") && t["container"].is_object() && t["container"].contains("file_ids")) {
                    for (const auto & f : t["container"]["file_ids"]) {
                        if (!f.is_string()) throw http_error(400, p + ".container.file_ids must hold file ids", p + ".container.file_ids");
                        rr.file_ids.push_back(f.get<std::string>());
                    }
                }
            } else if (type == "web_search" || type == "web_search_preview") {
                rr.server_tools.push_back("web");
            } else if (type == "file_search") {
                // The user's own files and conversations: muse has one store per user, not vector stores.
                rr.server_tools.push_back("file_search");
            } else if (type == "mcp") {
                if (t.contains("server_url") || t.contains("connector_id")) {
                    throw http_error(400, p + ": muse connects only to the MCP servers its operator configured (muse serve "
                                              "--mcp FILE); leave out server_url and name one with server_label",
                                     p + ".server_url", "mcp_server_not_allowed");
                }
                rr.server_tools.push_back("mcp");
            } else {
                throw http_error(400, p + ": tool type '" + type + "' is not supported (function, code_interpreter, web_search, file_search, mcp; "
                                          "muse's other tools go in muse.tools)", p + ".type");
            }
        }
    }
    stripped["tools"] = functions;
    if (body.contains("tool_choice") && body["tool_choice"].is_object()) {
        const std::string type = body["tool_choice"].value("type", "");
        if (type == "code_interpreter") {
            rr.forced_builtin = "python";
        } else if (type == "web_search" || type == "web_search_preview") {
            rr.forced_builtin = "web_search";
        } else if (type == "file_search") {
            rr.forced_builtin = "file_search";
        } else if (type == "mcp") {
            rr.forced_builtin = str_field(body["tool_choice"], "server_label", "tool_choice", true) + "." +
                                str_field(body["tool_choice"], "name", "tool_choice", true);
        }
        if (!rr.forced_builtin.empty()) stripped["tool_choice"] = { { "type", "function" }, { "name", rr.forced_builtin } };
    }
    if (body.contains("muse") && body["muse"].is_object() && body["muse"].contains("tools")) {
        const json & mt = body["muse"]["tools"];
        if (!mt.is_array()) throw http_error(400, "muse.tools must be an array of tool names", "muse.tools");
        for (const auto & n : mt) {
            if (!n.is_string()) throw http_error(400, "muse.tools must be an array of tool names", "muse.tools");
            rr.server_tools.push_back(n.get<std::string>());
        }
    }
    rr.chat = responses_to_chat_body(stripped);
    if (rr.chat.contains("tools") && rr.chat["tools"].empty()) rr.chat.erase("tools");
    for (const char * k : { "temperature", "top_p", "seed", "stop" }) {
        if (body.contains(k)) rr.chat[k] = body[k];
    }
    if (body.contains("max_output_tokens") && !body["max_output_tokens"].is_null()) rr.chat["max_tokens"] = body["max_output_tokens"];
    if (body.contains("text") && body["text"].is_object() && body["text"].contains("format")) {
        const json & f = body["text"]["format"];
        const std::string type = str_field(f, "type", "text.format", true);
        if (type == "json_schema") {
            rr.chat["response_format"] = { { "type", "json_schema" },
                                           { "json_schema", { { "name", f.value("name", "answer") },
                                                              { "schema", f.contains("schema") ? f["schema"] : json::object() } } } };
        } else if (type == "json_object" || type == "text") {
            rr.chat["response_format"] = { { "type", type } };
        } else {
            throw http_error(400, "text.format.type must be text, json_object or json_schema", "text.format.type");
        }
    }
    if (body.contains("muse")) {
        json mx = body["muse"];
        if (mx.is_object()) mx.erase("tools");
        rr.chat["muse"] = mx;
    }
    return rr;
}

json usage_json(const agent::loop_outcome & o, int cached) {
    return { { "input_tokens", o.prompt_tokens },
             { "input_tokens_details", { { "cached_tokens", cached } } },
             { "output_tokens", o.completion_tokens },
             { "output_tokens_details", { { "reasoning_tokens", o.reasoning_tokens } } },
             { "total_tokens", o.prompt_tokens + o.completion_tokens } };
}

}  // namespace

void responses_create_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who) {
    const json body = body_json(req);
    responses_request rr = responses_read(body);
    const bool stream = body.is_object() && body.value("stream", false);
    const bool store  = !body.is_object() || body.value("store", true);
    const std::string rid = id_make("resp_");

    // The conversation so far, and the workspace it shares.
    json        history = json::array();
    std::string previous = str_field(body, "previous_response_id", "", false);
    std::string workspace = rid;
    if (!previous.empty()) {
        auto prev = st.db.response_get(who.id, previous);
        if (!prev) throw http_error(404, "no response " + previous, "previous_response_id", "response_not_found");
        history   = json::parse(prev->history, nullptr, false);
        workspace = prev->workspace;
        if (!history.is_array()) history = json::array();
    }

    auto scope       = std::make_shared<agent_scope>();
    scope->who       = who;
    scope->workspace = workspace;
    auto tools       = agent_tools_select(st, scope, rr.server_tools, "tools");
    std::set<std::string> server_names, mcp_names;
    for (const auto & t : tools) server_names.insert(t->definition().name);
    for (const auto & t : st.cfg.agent.mcp_tools) mcp_names.insert(t->definition().name);
    agent_tools_add_to_body(rr.chat, tools);
    const file_reader files = [&st, &who](const std::string & id) { return st.db.file_read(who.id, id); };
    chat_call call = openai_chat_parse(rr.chat, st.mdl, agent_parse_limits(st, rr.server_tools), files, history);
    const json memory_used = memory_context_apply(st, who, call, body);
    if (!memory_used.empty()) res.set_header("x-muse-memory", memory_used_header(memory_used));
    const bool contemplate = call.reasoning_mode && call.reason.mode == reason::REASON_MODE_CONTEMPLATE;
    if (call.reasoning_mode && !contemplate) {
        throw http_error(400, "muse.mode orchestrate is not available through /v1/responses; give the model sub-agents with "
                              "\"muse\": {\"tools\": [\"spawn_agent\"]}", "muse.mode");
    }
    // code_interpreter's files go into the workspace's /mnt/data before the run.
    auto params = agent_loop_params(st, scope, tools);
    params.context.images = call.images;
    scope->images         = call.images;
    if (!contemplate) agent_images_to_media(st, params, call);  // contemplating agents share the call's media
    for (const auto & fid : rr.file_ids) {
        auto rec   = st.db.file_get(who.id, fid);
        auto bytes = st.db.file_read(who.id, fid);
        if (!rec || !bytes) throw http_error(404, "no file " + fid, "tools", "file_not_found");
        std::filesystem::create_directories(params.context.work_dir);
        const std::string name = std::filesystem::path(rec->filename).filename().string();
        // The sandbox writes this dir: a link (or FIFO) it left under the name goes first, and the
        // file is made anew without following links, or the host would write through it.
        const std::filesystem::path dest = params.context.work_dir / (name.empty() ? fid : name);
        ::unlink(dest.c_str());
        agent::unique_fd out(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        size_t done = 0;
        while (out.valid() && done < bytes->size()) {
            const ssize_t n = ::write(out.get(), bytes->data() + done, bytes->size() - done);
            if (n <= 0) break;
            done += (size_t) n;
        }
        if (!out.valid() || done < bytes->size()) {
            throw http_error(409, "file " + fid + " cannot be copied into /mnt/data as '" + dest.filename().string() +
                                  "': " + std::strerror(errno) + "; rename the file or use a new response chain", "tools", "file_not_copied");
        }
    }

    json skeleton = { { "id", rid }, { "object", "response" }, { "created_at", unix_now() }, { "status", "in_progress" },
                      { "model", st.cfg.model_id }, { "output", json::array() }, { "error", nullptr },
                      { "incomplete_details", nullptr },
                      { "instructions", body.contains("instructions") ? body["instructions"] : json(nullptr) },
                      { "previous_response_id", previous.empty() ? json(nullptr) : json(previous) },
                      { "tools", body.contains("tools") ? body["tools"] : json::array() },
                      { "tool_choice", body.contains("tool_choice") ? body["tool_choice"] : json("auto") },
                      { "parallel_tool_calls", body.value("parallel_tool_calls", true) },
                      { "max_output_tokens", body.contains("max_output_tokens") ? body["max_output_tokens"] : json(nullptr) },
                      { "temperature", body.contains("temperature") ? body["temperature"] : json(1.0) },
                      { "top_p", body.contains("top_p") ? body["top_p"] : json(1.0) },
                      { "store", store }, { "truncation", "disabled" },
                      { "text", body.contains("text") ? body["text"] : json{ { "format", { { "type", "text" } } } } },
                      { "reasoning", body.contains("reasoning") ? body["reasoning"] : json{ { "effort", nullptr } } },
                      { "metadata", body.contains("metadata") ? body["metadata"] : json::object() },
                      { "usage", nullptr } };

    if (const safety::verdict in = safety_input_check(st, who, call, "responses"); in.blocked()) {
        safety_refusal_send_responses(st, res, in, stream, skeleton);
        return;
    }
    const auto turns = safety_turns(call);

    // Runs the loop through `em`; returns the finished response object (and stores it).
    auto run_all = [&st, who, call, params, scope, skeleton, history, store, rid, previous, workspace, contemplate,
                    turns](response_emitter & em) {
        // The answer's text is checked as it streams; the policy stopping it ends the loop.
        safety_stream      check(st, who, turns, "responses");
        safety::verdict    stopped;
        agent::loop_events ev;
        ev.text = [&](int s, const std::string & r, const std::string & c) {
            if (stopped.blocked()) return;
            stopped = check.push(r + c);
            if (stopped.blocked()) {
                scope->cancel = true;
                return;
            }
            em.text(s, r, c);
            if (!em.ok) scope->cancel = true;
        };
        ev.call_generated = [&](int s, const agent::call_delta & d) { em.call_generated(s, d); };
        ev.step_finished  = [&](int s, const chat_parsed & p) { em.step_finished(s, p); };
        ev.call_finished  = [&](const agent::call_record & r) { agent_audit(st, *scope, r); em.call_finished(r); };
        ev.waiting        = [&] { em.keep_alive(); if (!em.ok) scope->cancel = true; };
        json                report;
        agent::loop_outcome o;
        if (!contemplate) {
            o = agent::loop_run(call.request, params, agent_generate(st, call, scope), ev);
        } else {
            // The agents run apart; their calls are audited as they finish, and the winner's turn
            // is replayed through the emitter as the response's output.
            agent::loop_events audit_only;
            audit_only.call_finished = [&](const agent::call_record & r) { agent_audit(st, *scope, r); };
            o = agent_contemplate(st, call, params, scope, audit_only, report);
            size_t next_call = 0;
            int    step      = 0;
            for (size_t k = 0; k < o.messages.size(); ++k) {
                const chat_message & m = o.messages[k];
                if (m.role != "assistant") continue;
                em.text(step, m.reasoning, m.content);
                em.step_finished(step, chat_parsed{ m.content, m.reasoning, m.tool_calls });
                for (size_t c = 0; c < m.tool_calls.size() && next_call < o.calls.size(); ++c) em.call_finished(o.calls[next_call++]);
                ++step;
            }
        }
        if (!stopped.blocked()) stopped = contemplate ? safety_output_check(st, who, turns, o.last.reasoning + "\n" + o.last.content, "responses")
                                                      : check.finish();
        if (stopped.blocked()) {
            // What was shown of the answer is dropped from the response; the policy's reply stands.
            em.refusal(safety_reply_text(stopped));
            json kept = json::array();
            for (auto & item : em.output) {
                const bool answer = item["type"] == "message" && !(item["content"].size() == 1 && item["content"][0]["type"] == "refusal");
                if (!answer && item["type"] != "reasoning") kept.push_back(item);
            }
            em.output = kept;
        }
        json r = skeleton;
        r["output"] = em.output;
        r["usage"]  = usage_json(o, 0);
        const bool incomplete = !stopped.blocked() && (o.stop == agent::LOOP_STOP_LENGTH || o.stop == agent::LOOP_STOP_MAX_STEPS ||
                                o.stop == agent::LOOP_STOP_TOKEN_BUDGET || o.stop == agent::LOOP_STOP_TIME_BUDGET);
        r["status"] = o.stop == agent::LOOP_STOP_CANCELLED && !stopped.blocked() ? "cancelled" : incomplete ? "incomplete" : "completed";
        if (incomplete) {
            r["incomplete_details"] = { { "reason", o.stop == agent::LOOP_STOP_LENGTH ? "max_output_tokens" : agent::loop_stop_name(o.stop) } };
        }
        std::string text;
        for (const auto & item : em.output) {
            if (item["type"] == "message" && !item["content"].empty() && item["content"][0].contains("text")) {
                text += item["content"][0]["text"].get<std::string>();
            }
        }
        text += stopped.note_suffix();
        r["output_text"] = text;
        r["muse"] = { { "stop", agent::loop_stop_name(o.stop) }, { "steps", o.steps }, { "workspace", workspace },
                      { "step_usage", agent_step_usage_json(o) } };
        if (!stopped.category.empty()) r["muse"]["safety"] = safety_json(st, stopped, safety::CHECK_POINT_OUTPUT);
        if (!report.is_null()) r["muse"].update(report);
        if (!store && workspace == rid) {
            // Not stored: nothing continues this response, so its fresh workspace's files go now
            // (its artifacts stay reachable by the ids the output names).
            std::error_code ec;
            std::filesystem::remove_all(params.context.work_dir, ec);
        }
        if (store) {
            // The conversation this response ends: what came before, this request's messages
            // (not its instructions) and the loop's.
            json hist = history;
            for (const auto & m : call.new_messages) {
                if (m.value("role", "") != "system" || !skeleton["instructions"].is_string()) hist.push_back(m);
            }
            for (auto & m : chat_messages_json(o.messages)) hist.push_back(std::move(m));
            store::response_record rec{ rid, workspace, previous, r.dump(-1, ' ', false, json::error_handler_t::replace),
                                        hist.dump(-1, ' ', false, json::error_handler_t::replace), 0 };
            st.db.response_put(who.id, rec);
        }
        return r;
    };

    if (!stream) {
        response_emitter em(rid, nullptr, server_names, mcp_names);
        json r = run_all(em);
        res.set_content(r.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
        return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [run_all, rid, server_names, mcp_names, skeleton, scope](size_t, httplib::DataSink & sink) {
            response_emitter em(rid, &sink, server_names, mcp_names);
            em.event("response.created", { { "response", skeleton } });
            em.event("response.in_progress", { { "response", skeleton } });
            try {
                json r = run_all(em);
                em.event(r["status"] == "incomplete" ? "response.incomplete" : "response.completed", { { "response", r } });
            } catch (const http_error & e) {
                json r     = skeleton;
                r["status"] = "failed";
                r["error"]  = { { "code", e.code.empty() ? "server_error" : e.code }, { "message", e.what() } };
                em.event("response.failed", { { "response", r } });
            } catch (const std::exception & e) {
                json r     = skeleton;
                r["status"] = "failed";
                r["error"]  = { { "code", "server_error" }, { "message", e.what() } };
                em.event("response.failed", { { "response", r } });
            }
            sink.done();
            return true;
        },
        [scope](bool success) {
            if (!success) scope->cancel = true;
        });
}

void responses_get_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who) {
    const std::string id = req.matches[1].str();
    auto              r  = st.db.response_get(who.id, id);
    if (!r) throw http_error(404, "no response " + id, "id", "response_not_found");
    res.set_content(r->body, "application/json");
}

void responses_delete_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who) {
    const std::string id = req.matches[1].str();
    if (!st.db.response_delete(who.id, id)) throw http_error(404, "no response " + id, "id", "response_not_found");
    res.set_content(json{ { "id", id }, { "object", "response.deleted" }, { "deleted", true } }.dump(), "application/json");
}

// The artifact as a document for a sandboxed frame: its own type, and a policy that lets its
// inline scripts run but reach nothing (no network, no parent, no storage of the origin).
void artifact_get_handle(server_state & st, const httplib::Request & req, httplib::Response & res, const caller & who) {
    const std::string id      = req.matches[1].str();
    const int         version = req.has_param("version") ? std::atoi(req.get_param_value("version").c_str()) : 0;
    auto              a       = st.db.artifact_get(who.id, id, version);
    if (!a) throw http_error(404, "no artifact " + id + (version > 0 ? " version " + std::to_string(version) : ""), "id", "artifact_not_found");
    if (req.has_param("format") && req.get_param_value("format") == "json") {
        res.set_content(json{ { "id", a->id }, { "object", "artifact" }, { "version", a->version }, { "title", a->title },
                              { "type", a->type }, { "workspace", a->workspace }, { "content", a->content },
                              { "created_at", a->created_at } }.dump(-1, ' ', false, json::error_handler_t::replace),
                        "application/json");
        return;
    }
    const auto type = agent::artifact_type_parse(a->type).value_or(agent::ARTIFACT_TYPE_HTML);
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
                   "font-src data:; media-src data: blob:; connect-src 'none'; form-action 'none'; frame-ancestors *; sandbox allow-scripts");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Cross-Origin-Resource-Policy", "cross-origin");
    res.set_content(a->content, std::string(agent::artifact_type_mime(type)) + "; charset=utf-8");
}

}  // namespace muse::server
