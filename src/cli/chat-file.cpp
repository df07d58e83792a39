#include "cli/chat-file.h"

#include "cli/options.h"
#include "engine/error.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace muse::cli {

using json = nlohmann::json;

static std::string path_absolute(const std::string & path) {
    std::error_code ec;
    auto            abs = std::filesystem::absolute(path, ec);
    return ec ? path : abs.lexically_normal().string();
}

static json message_to_json(const chat_message & m, const std::vector<std::string> & media_paths) {
    json        j     = { { "role", m.role } };
    std::string text  = m.content;
    json        media = json::array();
    for (const auto & p : m.parts) {
        if (p.type == CHAT_PART_TYPE_TEXT) {
            text += p.text;
        } else if (p.media_index < media_paths.size()) {
            media.push_back(path_absolute(media_paths[p.media_index]));
        }
    }
    j["content"] = text;
    if (!media.empty()) {
        j["media"] = media;
    }
    if (!m.reasoning.empty()) {
        j["reasoning_content"] = m.reasoning;
    }
    if (!m.tool_calls.empty()) {
        j["tool_calls"] = json::array();
        for (const auto & tc : m.tool_calls) {
            j["tool_calls"].push_back({ { "id", tc.id },
                                        { "type", "function" },
                                        { "function", { { "name", tc.name }, { "arguments", tc.arguments } } } });
        }
    }
    if (!m.tool_call_id.empty()) {
        j["tool_call_id"] = m.tool_call_id;
    }
    if (!m.tool_name.empty()) {
        j["name"] = m.tool_name;
    }
    return j;
}

void chat_file_save(const std::string & path, const chat_file & chat) {
    json arr = json::array();
    for (const auto & m : chat.messages) {
        arr.push_back(message_to_json(m, chat.media_paths));
    }
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        if (!out) {
            throw input_error(path + ": cannot write here; choose another path");
        }
        out << arr.dump(2) << "\n";
        if (!out.flush()) {
            std::remove(tmp.c_str());
            throw input_error(path + ": the write failed (disk full?); choose another path");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw input_error(path + ": cannot write here; choose another path");
    }
}

// The message's string field `key`, "" when absent or null.
static std::string string_field(const json & m, const char * key, const std::string & where) {
    if (!m.contains(key) || m[key].is_null()) {
        return "";
    }
    if (!m[key].is_string()) {
        throw input_error(where + ": \"" + key + "\" must be a string");
    }
    return m[key].get<std::string>();
}

static chat_message message_from_json(const json & m, const std::string & where, chat_file & chat) {
    if (!m.is_object()) {
        throw input_error(where + ": expected an object with \"role\" and \"content\"");
    }
    chat_message msg;
    msg.role = string_field(m, "role", where);
    if (msg.role != "user" && msg.role != "assistant" && msg.role != "system" && msg.role != "tool") {
        throw input_error(where + ": \"role\" must be user, assistant, system or tool, not \"" + msg.role + "\"");
    }
    const std::string text = string_field(m, "content", where);
    msg.reasoning          = string_field(m, "reasoning_content", where);
    msg.tool_call_id       = string_field(m, "tool_call_id", where);
    msg.tool_name          = string_field(m, "name", where);

    if (m.contains("media")) {
        const auto & media = m["media"];
        if (!media.is_array()) {
            throw input_error(where + ": \"media\" must be an array of file paths");
        }
        for (size_t k = 0; k < media.size(); ++k) {
            if (!media[k].is_string() || media[k].get<std::string>().empty()) {
                throw input_error(where + ": media #" + std::to_string(k + 1) + " must be a file path");
            }
            chat.media_paths.push_back(media[k].get<std::string>());
            msg.parts.push_back({ CHAT_PART_TYPE_MEDIA, "", chat.media_paths.size() - 1 });
        }
    } else if (m.contains("media_count") && m["media_count"].is_number_integer() && m["media_count"].get<int>() > 0) {
        // Files from before "media" named how many items there were, not which.
        chat.warnings.push_back(where + ": its " + std::to_string(m["media_count"].get<int>()) +
                                " media item(s) were saved without their paths (an older muse); loaded without them");
    }
    if (msg.parts.empty()) {
        msg.content = text;
    } else {
        msg.parts.push_back({ CHAT_PART_TYPE_TEXT, text, 0 });
    }

    if (m.contains("tool_calls")) {
        const auto & calls = m["tool_calls"];
        if (!calls.is_array()) {
            throw input_error(where + ": \"tool_calls\" must be an array");
        }
        for (size_t k = 0; k < calls.size(); ++k) {
            const std::string call_where = where + ", tool call #" + std::to_string(k + 1);
            const auto &      c          = calls[k];
            if (!c.is_object() || !c.contains("function") || !c["function"].is_object()) {
                throw input_error(call_where +
                                  ": expected {\"id\": ..., \"function\": {\"name\": ..., \"arguments\": ...}}");
            }
            const auto &   fn = c["function"];
            chat_tool_call tc;
            tc.id   = string_field(c, "id", call_where);
            tc.name = string_field(fn, "name", call_where);
            if (tc.name.empty()) {
                throw input_error(call_where + ": the function has no \"name\"");
            }
            if (fn.contains("arguments")) {
                // OpenAI writes the arguments as JSON text; an object is taken as what it means.
                tc.arguments =
                    fn["arguments"].is_string() ? fn["arguments"].get<std::string>() : fn["arguments"].dump();
            }
            msg.tool_calls.push_back(std::move(tc));
        }
    }
    return msg;
}

chat_file chat_file_load(const std::string & path) {
    const std::string text = file_read(path, "saved chat");
    json              arr;
    try {
        arr = json::parse(text);
    } catch (const json::parse_error & e) {
        throw input_error(path + ": not valid JSON (" + e.what() + "); load a file written by /save");
    }
    if (!arr.is_array()) {
        throw input_error(path + ": expected a JSON array of messages, as /save writes; load a file written by /save");
    }
    chat_file chat;
    try {
        for (size_t i = 0; i < arr.size(); ++i) {
            chat.messages.push_back(message_from_json(arr[i], path + ": message #" + std::to_string(i + 1), chat));
        }
    } catch (const input_error & e) {
        throw input_error(std::string(e.what()) + "; fix the file, or load one written by /save");
    }
    return chat;
}

}  // namespace muse::cli
