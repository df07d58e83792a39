#pragma once
// Anthropic messages: the request body (system, content blocks, tools, tool_choice, thinking)
// into a chat_call. The route in anthropic-route.cpp calls it; the fuzz target does too.
#include "server/chat-call.h"

#include <nlohmann/json.hpp>

namespace muse::server {

// Throws http_error (400 with the offending `param`, 413 for media over the limits).
chat_call anthropic_parse(const nlohmann::json & body, const model & mdl, const server_limits & limits);

}  // namespace muse::server
