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
        for (size_t i = 0; i < input.size(); ++i) {
            const std::string p = "input[" + std::to_string(i) + "]";
            const json &      it = input[i];
            if (!it.is_object()) throw http_error(400, p + " must be an object", p);
            const std::string type = str_field(it, "type", p, false);
            if (type.empty() || type == "message") {
                std::string role = str_field(it, "role", p, true);
                if (!it.contains("content")) throw http_error(400, p + ".content is required", p + ".content");
                messages.push_back({ { "role", role }, { "content", content_parts(it["content"], p + ".content") } });
            } else if (type == "function_call") {
                json call = { { "id", str_field(it, "call_id", p, true) },
                              { "type", "function" },
                              { "function", { { "name", str_field(it, "name", p, true) }, { "arguments", str_field(it, "arguments", p, false) } } } };
                // Calls in a row are one assistant turn's calls.
                if (!messages.empty() && messages.back()["role"] == "assistant" && messages.back().contains("tool_calls")) {
                    messages.back()["tool_calls"].push_back(std::move(call));
                } else {
                    messages.push_back({ { "role", "assistant" }, { "content", nullptr }, { "tool_calls", json::array({ std::move(call) }) } });
                }
            } else if (type == "function_call_output") {
                const json & out = it.contains("output") ? it["output"] : json();
                messages.push_back({ { "role", "tool" },
                                     { "tool_call_id", str_field(it, "call_id", p, true) },
                                     { "content", out.is_string() ? out.get<std::string>() : out.dump() } });
            } else {
                throw http_error(400, p + ": unknown item type '" + type + "' (message, function_call, function_call_output)", p + ".type");
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
