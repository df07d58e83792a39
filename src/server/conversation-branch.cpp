#include "server/conversation-branch.h"

#include "agent/text-cap.h"
#include "server/json-fields.h"

#include <cstdio>

namespace muse::server {

using json = nlohmann::json;

conversation_branch conversation_branch_open(server_state & st, const caller & who, const json & body) {
    conversation_branch b;
    if (!body.is_object() || !body.contains("muse") || !body["muse"].is_object()) return b;
    const json & mx     = body["muse"];
    b.id                = str_field(mx, "conversation_id", "muse", false);
    const bool   parent = mx.contains("parent_id") && !mx["parent_id"].is_null();
    const std::string parent_id = str_field(mx, "parent_id", "muse", false);
    if (b.id.empty()) {
        if (parent) {
            throw http_error(400, "muse.parent_id " + parent_id + " needs muse.conversation_id: the conversation it is a message of",
                             "muse.parent_id", "missing_field");
        }
        return b;
    }
    const auto c = st.db.conversation_get(who.id, b.id);
    if (!c) throw http_error(404, "no conversation " + b.id, "muse.conversation_id", "conversation_not_found");
    b.parent_id = parent ? parent_id : c->current_id;
    if (b.parent_id.empty()) return b;  // a first message
    const auto path = st.db.message_path(who.id, b.id, b.parent_id);
    if (path.empty()) {
        throw http_error(400, "muse.parent_id " + b.parent_id + " is not a message of the conversation " + b.id +
                                  "; pass one of the message ids GET /v1/conversations/" + b.id +
                                  " lists (or \"\" for a new first message)",
                         "muse.parent_id", "parent_not_found");
    }
    for (const auto & m : path) {
        json msg = json::parse(m.content, nullptr, /*allow_exceptions=*/false);
        if (!msg.is_object()) msg = { { "role", m.role }, { "content", m.content } };
        msg.erase("muse");
        b.history.push_back(std::move(msg));
    }
    return b;
}

std::string conversation_message_text(const json & msg) {
    return msg.dump(-1, ' ', false, json::error_handler_t::replace);
}

void conversation_branch_append(server_state & st, const caller & who, conversation_branch & b, const json & msg,
                                const char * role) {
    if (b.id.empty()) return;
    const auto m = st.db.message_append_under(who.id, b.id, b.parent_id, msg.value("role", role), conversation_message_text(msg));
    if (!m) return;  // the conversation was deleted meanwhile
    b.parent_id = m->id;
    b.message_ids.push_back(m->id);
}

void conversation_reply_append(server_state & st, const caller & who, conversation_branch & b, const json & msg) {
    try {
        conversation_branch_append(st, who, b, msg, "assistant");
    } catch (const std::exception & e) {
        fprintf(stderr, "muse serve: a reply in conversation %s was not stored: %s\n", b.id.c_str(), e.what());
    }
}

namespace {

// `text` cut to at most `max` bytes at a UTF-8 character boundary, with a marker saying how
// much was left out.
std::string output_cut(const std::string & text, size_t max) {
    if (text.size() <= max) return text;
    const size_t end = agent::utf8_cut(text, max);
    return text.substr(0, end) + "\n[output cut: " + std::to_string(text.size() - end) + " of " + std::to_string(text.size()) +
           " bytes not stored]";
}

}  // namespace

json conversation_tool_calls_stored(const json & calls) {
    json out = json::array();
    if (!calls.is_array()) return out;
    for (const auto & c : calls) {
        json s = c;
        if (s.contains("output") && s["output"].is_string()) s["output"] = output_cut(s["output"].get<std::string>(), k_stored_output_max);
        json images = json::array();
        if (c.contains("images") && c["images"].is_array()) {
            for (const auto & img : c["images"]) {
                if (img.is_object()) images.push_back({ { "name", img.value("name", "") }, { "mime_type", img.value("mime_type", "") } });
            }
        }
        s["images"] = std::move(images);
        out.push_back(std::move(s));
    }
    return out;
}

json conversation_branch_json(const conversation_branch & b) {
    return { { "id", b.id }, { "message_ids", b.message_ids } };
}

}  // namespace muse::server
