#pragma once
// Where a chat request's messages go in a stored conversation: muse.conversation_id names it,
// muse.parent_id the message the request continues (a new branch when that message already has
// one); without it, the conversation's current message. The request's history is the branch
// from the first message to that one, and what the request appends goes under it. A stored
// message's "muse" field (the agent's calls) is the store's own: history leaves it out.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "server/server-state.h"

namespace muse::server {

struct conversation_branch {
    std::string              id;         // the conversation; "" when the request names none
    std::string              parent_id;  // where the next append goes ("": a first message)
    nlohmann::json           history = nlohmann::json::array();  // the branch up to parent_id, as the model reads it
    std::vector<std::string> message_ids;  // what this request appended, in order
};

// Reads muse.conversation_id and muse.parent_id of a chat request body. Throws http_error:
// 404 when the conversation is not the caller's, 400 for a parent_id that is not one of its
// messages or that comes without a conversation_id.
conversation_branch conversation_branch_open(server_state & st, const caller & who, const nlohmann::json & body);

// The text the store keeps of a message: its JSON, with any byte that is not UTF-8 (a tool's
// output, a cut made by bytes) as U+FFFD, so that such a message is stored and not lost.
std::string conversation_message_text(const nlohmann::json & msg);

// Appends `msg` (its role, default `role`) under the branch's last message and records its id.
// Nothing for a request without a conversation, or one deleted meanwhile (not the caller's error).
void conversation_branch_append(server_state & st, const caller & who, conversation_branch & b, const nlohmann::json & msg,
                                const char * role);

// Appends an assistant reply that has already gone out to the client, which can no longer
// hear of a failure: the failure is said on stderr, and the reply's message_ids, without its
// id, tell the client it was not kept. Never throws.
void conversation_reply_append(server_state & st, const caller & who, conversation_branch & b, const nlohmann::json & msg);

// The agent's calls (agent_call_json objects) as a stored message keeps them under
// muse.tool_calls: images as {name, mime_type} (no base64 in the store), output cut at
// k_stored_output_max bytes with a marker saying so, the rest as the reply showed it.
inline constexpr size_t k_stored_output_max = 16 * 1024;
nlohmann::json conversation_tool_calls_stored(const nlohmann::json & calls);

// What a reply tells the client was stored: {"id", "message_ids"}.
nlohmann::json conversation_branch_json(const conversation_branch & b);

}  // namespace muse::server
