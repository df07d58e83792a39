// /v1/conversations: create, list and search, read (every branch), update (rename, switch
// branch, metadata), export (JSON or the current branch as Markdown), delete.
#include <cstdlib>

#include "server/data-routes.h"
#include "server/json-fields.h"
#include "server/wire-util.h"

namespace muse::server {

using json = nlohmann::json;

namespace {

constexpr int k_list_limit_max = 100;

json conversation_json(const store::conversation & c) {
    json meta = json::parse(c.metadata.empty() ? "{}" : c.metadata, nullptr, false);
    return { { "id", c.id }, { "object", "conversation" }, { "created_at", c.created_at }, { "updated_at", c.updated_at },
             { "title", c.title }, { "metadata", meta.is_discarded() ? json::object() : meta },
             { "current_id", c.current_id.empty() ? json(nullptr) : json(c.current_id) } };
}

// A stored message as the API shows it: the message object, with its id, parent and time.
json message_json(const store::message & m) {
    json msg = json::parse(m.content, nullptr, false);
    if (!msg.is_object()) msg = { { "role", m.role }, { "content", m.content } };
    msg["id"]         = m.id;
    msg["parent_id"]  = m.parent_id.empty() ? json(nullptr) : json(m.parent_id);
    msg["created_at"] = m.created_at;
    return msg;
}

// The conversation with every message of every branch.
json conversation_full_json(server_state & st, const caller & who, const store::conversation & c) {
    json out      = conversation_json(c);
    json messages = json::array();
    for (const auto & m : st.db.message_list(who.id, c.id)) messages.push_back(message_json(m));
    out["messages"] = std::move(messages);
    return out;
}

void json_send(httplib::Response & res, const json & j) {
    res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

store::conversation conversation_found(server_state & st, const caller & who, const std::string & id) {
    auto c = st.db.conversation_get(who.id, id);
    if (!c) throw http_error(404, "no conversation " + id, "conversation_id", "conversation_not_found");
    return *c;
}

// ?limit=N: 1 to k_list_limit_max, `fallback` when absent.
int limit_param(const httplib::Request & req, int fallback) {
    if (!req.has_param("limit")) return fallback;
    const std::string v   = req.get_param_value("limit");
    char *            end = nullptr;
    const long        n   = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 1 || n > k_list_limit_max) {
        throw http_error(400, "limit must be a whole number from 1 to " + std::to_string(k_list_limit_max) + " (got '" + v + "')",
                         "limit", "invalid_value");
    }
    return (int) n;
}

// A message's text: its content string, or its text parts one after another.
std::string content_text(const json & content) {
    if (content.is_string()) return content.get<std::string>();
    std::string out;
    if (!content.is_array()) return out;
    for (const auto & part : content) {
        if (!part.is_object()) continue;
        if (part.value("type", "") == "text" && part.contains("text") && part["text"].is_string()) {
            if (!out.empty()) out += "\n\n";
            out += part["text"].get<std::string>();
        } else if (part.contains("type") && part["type"].is_string()) {
            if (!out.empty()) out += "\n\n";
            out += "*(" + part["type"].get<std::string>() + ")*";  // an image or a file: named, not inlined
        }
    }
    return out;
}

// The current branch as Markdown: "# title", then each message under its speaker, the
// reasoning folded in a <details> block, an answer's server-side tool calls listed after it.
std::string conversation_markdown(server_state & st, const caller & who, const store::conversation & c) {
    std::string out = "# " + (c.title.empty() ? std::string("Conversation") : c.title) + "\n";
    if (c.current_id.empty()) return out;
    for (const auto & m : st.db.message_path(who.id, c.id, c.current_id)) {
        const json msg = json::parse(m.content, nullptr, false);
        const json content   = msg.is_object() ? msg.value("content", json()) : json(m.content);
        const std::string who_said = m.role == "user"      ? "User"
                                     : m.role == "assistant" ? "Assistant"
                                     : m.role == "system"    ? "System"
                                     : m.role == "tool"      ? "Tool"
                                                             : m.role;
        out += "\n**" + who_said + ":**\n\n";
        if (msg.is_object() && msg.contains("reasoning_content") && msg["reasoning_content"].is_string() &&
            !msg["reasoning_content"].get<std::string>().empty()) {
            out += "<details>\n<summary>Reasoning</summary>\n\n" + msg["reasoning_content"].get<std::string>() +
                   "\n\n</details>\n\n";
        }
        std::string text = content_text(content);
        if (msg.is_object() && msg.contains("tool_calls") && msg["tool_calls"].is_array()) {
            for (const auto & tc : msg["tool_calls"]) {
                if (!text.empty()) text += "\n\n";
                text += "*(calls " + tc.value("/function/name"_json_pointer, std::string("a tool")) + ")*";
            }
        }
        out += text + "\n";
        // The server-side tools the agent ran for this answer: each one's name and outcome.
        if (msg.is_object() && msg.contains("muse") && msg["muse"].is_object() && msg["muse"].contains("tool_calls") &&
            msg["muse"]["tool_calls"].is_array() && !msg["muse"]["tool_calls"].empty()) {
            out += "\nTool calls:\n\n";
            for (const auto & tc : msg["muse"]["tool_calls"]) {
                if (!tc.is_object()) continue;
                out += "- `" + tc.value("name", std::string("a tool")) + "`: " + tc.value("outcome", std::string("unknown")) + "\n";
            }
        }
    }
    return out;
}

// A file name from a title: letters, digits, space, '.', '-' and '_' kept (other bytes, quotes
// and slashes among them, become '_'), at most 100 bytes, never empty or hidden.
std::string filename_of(const std::string & title) {
    std::string name;
    for (char ch : title) {
        const bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == ' ' ||
                          ch == '.' || ch == '-' || ch == '_';
        name += keep ? ch : '_';
        if (name.size() >= 100) break;
    }
    while (!name.empty() && (name.front() == ' ' || name.front() == '.')) name.erase(0, 1);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    return name.empty() ? "conversation" : name;
}

json body_object(const httplib::Request & req) {
    if (req.body.empty()) return json::object();
    json b = body_json(req);
    if (!b.is_object()) throw http_error(400, "the request body must be a JSON object");
    return b;
}

}  // namespace

void conversation_routes_add(server_state & st, const route_adder & add) {
    add("POST", "/v1/conversations", "conversations", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            const json  b     = body_object(req);
            std::string title = str_field(b, "title", "", false);
            json        meta  = b.contains("metadata") && !b["metadata"].is_null() ? b["metadata"] : json::object();
            if (!meta.is_object()) throw http_error(400, "metadata must be an object", "metadata");
            json_send(res, conversation_json(st.db.conversation_create(who.id, title, meta.dump())));
        });
    // Newest first; ?q=TEXT searches titles and messages (with a snippet of the match).
    add("GET", "/v1/conversations", "conversations", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            json data = json::array();
            const std::string q = req.has_param("q") ? req.get_param_value("q") : "";
            if (q.empty()) {
                for (const auto & c : st.db.conversation_list(who.id, limit_param(req, k_list_limit_max))) {
                    data.push_back(conversation_json(c));
                }
            } else {
                for (const auto & h : st.db.conversation_search(who.id, q, limit_param(req, 20))) {
                    json c = conversation_json(h.conv);
                    if (!h.snippet.empty()) c["snippet"] = h.snippet;
                    data.push_back(std::move(c));
                }
            }
            json_send(res, { { "object", "list" }, { "data", std::move(data) } });
        });
    add("GET", R"(/v1/conversations/([^/]+))", "conversations", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            json_send(res, conversation_full_json(st, who, conversation_found(st, who, req.matches[1])));
        });
    // {"title"?, "current_id"?, "metadata"?}: rename, switch branch, replace the metadata.
    add("POST", R"(/v1/conversations/([^/]+))", "conversations", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            const std::string id = req.matches[1];
            const json        b  = body_object(req);
            store::conversation_changes changes;
            if (b.contains("title") && !b["title"].is_null()) changes.title = str_field(b, "title", "", true);
            if (b.contains("current_id") && !b["current_id"].is_null()) {
                changes.current_id = str_field(b, "current_id", "", true);
            }
            if (b.contains("metadata") && !b["metadata"].is_null()) {
                if (!b["metadata"].is_object()) throw http_error(400, "metadata must be an object", "metadata", "invalid_type");
                changes.metadata = b["metadata"].dump();
            }
            if (!changes.title && !changes.current_id && !changes.metadata) {
                throw http_error(400, "send at least one of title, current_id (a message id) or metadata (an object)", "",
                                 "missing_field");
            }
            std::optional<store::conversation> c;
            try {
                c = st.db.conversation_update(who.id, id, changes);
            } catch (const std::invalid_argument &) {
                throw http_error(400, "current_id " + *changes.current_id + " is not a message of the conversation " + id +
                                          "; pass one of the message ids GET /v1/conversations/" + id + " lists",
                                 "current_id", "message_not_found");
            }
            if (!c) throw http_error(404, "no conversation " + id, "conversation_id", "conversation_not_found");
            json_send(res, conversation_full_json(st, who, *c));
        });
    // ?format=json (the default: the conversation with every branch) or markdown (the
    // current branch, as a file to save).
    add("GET", R"(/v1/conversations/([^/]+)/export)", "conversations", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            const std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
            if (format != "json" && format != "markdown") {
                throw http_error(400, "format must be json or markdown (got '" + format + "')", "format", "invalid_value");
            }
            const auto        c    = conversation_found(st, who, req.matches[1]);
            const std::string name = filename_of(c.title.empty() ? c.id : c.title);
            if (format == "json") {
                res.set_header("Content-Disposition", "attachment; filename=\"" + name + ".json\"");
                json_send(res, conversation_full_json(st, who, c));
                return;
            }
            res.set_header("Content-Disposition", "attachment; filename=\"" + name + ".md\"");
            res.set_content(conversation_markdown(st, who, c), "text/markdown; charset=utf-8");
        });
    add("DELETE", R"(/v1/conversations/([^/]+))", "conversations", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            if (!st.db.conversation_delete(who.id, req.matches[1])) {
                throw http_error(404, "no conversation " + req.matches[1].str(), "conversation_id", "conversation_not_found");
            }
            st.sched.cache_forget(std::to_string(who.id), req.matches[1]);  // its cells, in memory and on disk
            json_send(res, { { "id", req.matches[1].str() }, { "object", "conversation.deleted" }, { "deleted", true } });
        });
}

}  // namespace muse::server
