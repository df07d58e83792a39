#include "server/responses-input.h"

#include "server/http-error.h"
#include "server/json-fields.h"

namespace muse::server {

using json = nlohmann::json;

static json content_parts(const json & content, const std::string & where) {
    if (content.is_string()) return content;
    if (!content.is_array()) throw http_error(400, where + " must be a string or an array of parts", where);
    json parts = json::array();
    for (size_t i = 0; i < content.size(); ++i) {
        const std::string p    = where + "[" + std::to_string(i) + "]";
        const std::string type = str_field(content[i], "type", p, true);
        if (type == "input_text" || type == "output_text") {
            parts.push_back({ { "type", "text" }, { "text", str_field(content[i], "text", p, true) } });
        } else if (type == "input_image") {
            std::string url = str_field(content[i], "image_url", p, false);
            if (url.empty()) {
                const std::string file = str_field(content[i], "file_id", p, false);
                if (file.empty()) throw http_error(400, p + ": an input_image needs image_url or file_id", p);
                parts.push_back({ { "type", "image_url" }, { "image_url", { { "url", file } } } });
                continue;
            }
            parts.push_back({ { "type", "image_url" }, { "image_url", { { "url", url } } } });
        } else {
            throw http_error(400, p + ": unknown part type '" + type + "' (input_text, output_text, input_image)", p + ".type");
        }
    }
    return parts;
}

json responses_to_chat_body(const json & body) {
    if (!body.is_object()) throw http_error(400, "the request body must be a JSON object");
    json messages = json::array();
    const std::string instructions = str_field(body, "instructions", "", false);
    if (!instructions.empty()) messages.push_back({ { "role", "system" }, { "content", instructions } });
    if (!body.contains("input")) throw http_error(400, "input is required (a string or an array of items)", "input");
    const json & input = body["input"];
    if (input.is_string()) {
        messages.push_back({ { "role", "user" }, { "content", input } });
    } else if (input.is_array()) {
        std::string pending_reasoning;
        for (size_t i = 0; i < input.size(); ++i) {
            const std::string p = "input[" + std::to_string(i) + "]";
            const json &      it = input[i];
            if (!it.is_object()) throw http_error(400, p + " must be an object", p);
            const std::string type = str_field(it, "type", p, false);
            // A client that sends back the previous output (the Agents SDK, LangChain) sends its
            // reasoning items too: the reasoning of the assistant turn they came with.
            if (type == "reasoning") {
                std::string text;
                for (const char * key : { "content", "summary" }) {
                    if (!it.contains(key) || !it[key].is_array()) continue;
                    for (const auto & part : it[key]) {
                        if (part.is_object() && part.contains("text") && part["text"].is_string()) text += part["text"].get<std::string>();
                    }
                    if (!text.empty()) break;
                }
                pending_reasoning += text;
                continue;
            }
            auto assistant_turn = [&]() -> json & {
                // The assistant message the next output item belongs to (one per turn).
                if (messages.empty() || messages.back()["role"] != "assistant" || !pending_reasoning.empty()) {
                    messages.push_back({ { "role", "assistant" }, { "content", nullptr } });
                }
                json & m = messages.back();
                if (!pending_reasoning.empty()) {
                    m["reasoning_content"] = pending_reasoning;
                    pending_reasoning.clear();
                }
                return m;
            };
            if (type.empty() || type == "message") {
                std::string role = str_field(it, "role", p, true);
                if (!it.contains("content")) throw http_error(400, p + ".content is required", p + ".content");
                if (role == "assistant") {
                    json & m = assistant_turn();
                    json   c = content_parts(it["content"], p + ".content");
                    std::string text;
                    if (c.is_string()) text = c.get<std::string>();
                    for (const auto & part : c.is_array() ? c : json::array()) {
                        if (part.value("type", "") == "text") text += part.value("text", "");
                    }
                    m["content"] = (m["content"].is_string() ? m["content"].get<std::string>() : std::string()) + text;
                    continue;
                }
                messages.push_back({ { "role", role }, { "content", content_parts(it["content"], p + ".content") } });
            } else if (type == "code_interpreter_call" || type == "mcp_call" || type == "muse_tool_call") {
                // A built-in call the server ran: the assistant's call and its result, as the model saw them.
                std::string name = type == "code_interpreter_call" ? "python" : str_field(it, "name", p, true);
                if (type == "mcp_call") name = str_field(it, "server_label", p, true) + "." + name;
                const std::string args = type == "code_interpreter_call" ? json{ { "code", str_field(it, "code", p, false) } }.dump()
                                                                         : str_field(it, "arguments", p, false);
                std::string output;
                if (type == "code_interpreter_call" && it.contains("outputs") && it["outputs"].is_array()) {
                    for (const auto & o : it["outputs"]) {
                        if (o.is_object() && o.value("type", "") == "logs") output += o.value("logs", "");
                    }
                } else if (it.contains("output") && it["output"].is_string()) {
                    output = it["output"].get<std::string>();
                } else if (it.contains("error") && it["error"].is_string()) {
                    output = "error: " + it["error"].get<std::string>();
                }
                const std::string id = str_field(it, "id", p, true);
                json & m = assistant_turn();
                if (!m.contains("tool_calls")) m["tool_calls"] = json::array();
                m["tool_calls"].push_back({ { "id", id }, { "type", "function" }, { "function", { { "name", name }, { "arguments", args } } } });
                messages.push_back({ { "role", "tool" }, { "tool_call_id", id }, { "content", output } });
            } else if (type == "item_reference") {
                throw http_error(400, p + ": item_reference is not supported; send the item itself, or use previous_response_id", p + ".type");
            } else if (type == "function_call") {
                json call = { { "id", str_field(it, "call_id", p, true) },
                              { "type", "function" },
                              { "function", { { "name", str_field(it, "name", p, true) }, { "arguments", str_field(it, "arguments", p, false) } } } };
                // Calls in a row are one assistant turn's calls (after its text, if any).
                json & m = assistant_turn();
                if (!m.contains("tool_calls")) m["tool_calls"] = json::array();
                m["tool_calls"].push_back(std::move(call));
            } else if (type == "function_call_output") {
                const json & out = it.contains("output") ? it["output"] : json();
                messages.push_back({ { "role", "tool" },
                                     { "tool_call_id", str_field(it, "call_id", p, true) },
                                     { "content", out.is_string() ? out.get<std::string>() : out.dump() } });
            } else {
                throw http_error(400, p + ": unknown item type '" + type + "' (message, reasoning, function_call, function_call_output, "
                                          "code_interpreter_call, mcp_call)", p + ".type");
            }
        }
    } else {
        throw http_error(400, "input must be a string or an array of items", "input");
    }
    json chat = { { "messages", std::move(messages) } };
    if (body.contains("tools") && body["tools"].is_array()) {
        json tools = json::array();
        for (size_t i = 0; i < body["tools"].size(); ++i) {
            const std::string p    = "tools[" + std::to_string(i) + "]";
            const json &      t    = body["tools"][i];
            const std::string type = str_field(t, "type", p, true);
            if (type != "function") throw http_error(400, p + ": tool type '" + type + "' is not supported here (function)", p + ".type");
            json fn = { { "name", str_field(t, "name", p, true) } };
            if (t.contains("description")) fn["description"] = t["description"];
            if (t.contains("parameters")) fn["parameters"] = t["parameters"];
            tools.push_back({ { "type", "function" }, { "function", std::move(fn) } });
        }
        chat["tools"] = std::move(tools);
    }
    if (body.contains("tool_choice") && !body["tool_choice"].is_null()) {
        const json & tc = body["tool_choice"];
        if (tc.is_object() && tc.value("type", "") == "function") {
            chat["tool_choice"] = { { "type", "function" }, { "function", { { "name", str_field(tc, "name", "tool_choice", true) } } } };
        } else {
            chat["tool_choice"] = tc;
        }
    }
    if (body.contains("parallel_tool_calls")) chat["parallel_tool_calls"] = body["parallel_tool_calls"];
    if (body.contains("reasoning") && body["reasoning"].is_object() && body["reasoning"].contains("effort")) {
        chat["reasoning_effort"] = body["reasoning"]["effort"];
    }
    return chat;
}

}  // namespace muse::server
