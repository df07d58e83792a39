#pragma once
// The server's side of memory that is used (agent/memory-prompt.h): the caller's relevant
// items go into the request's system prompt, and the caller learns which (the `x-muse-memory`
// header, and `muse.memory_used` where a body has room for it). Off for a user who turned
// memory off, and for a request with "muse": {"memory": false}.
#include "server/chat-call.h"
#include "server/server-state.h"

#include <nlohmann/json.hpp>

namespace muse::server {

// Returns the items used as [{"id", "text"}] (empty when none).
nlohmann::json memory_context_apply(server_state & st, const caller & who, chat_call & call, const nlohmann::json & body);

// The header value for the items used: their ids, comma-separated ("" when none).
std::string memory_used_header(const nlohmann::json & used);

}  // namespace muse::server
