#pragma once
// OpenAI chat completions: the request body into a chat_call, and the results back into
// chat.completion objects and chat.completion.chunk stream events.
#include "server/chat-call.h"

#include <nlohmann/json.hpp>

namespace muse::server {

// Throws http_error (400 with the offending `param`, 413 for media over the limits).
// `history`: stored conversation messages (OpenAI message objects) that come first.
chat_call openai_chat_parse(const nlohmann::json & body, const model & mdl, const server_limits & limits,
                            const file_reader & files, const nlohmann::json & history);

// OpenAI message objects into muse's chat messages (media parts are added to `call`).
void openai_messages_read(const nlohmann::json & messages, const std::string & where, chat_call & call,
                          const model & mdl, const server_limits & limits, const file_reader & files);

const char * openai_finish_reason(finish_reason reason, bool has_tool_calls);

nlohmann::json openai_tool_calls(const std::vector<chat_tool_call> & calls);

}  // namespace muse::server
