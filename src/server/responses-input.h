#pragma once
// The OpenAI Responses API's request (instructions, input as a string or as items, tools in
// their flat form, tool_choice) as the chat completions body it means, so that one parser
// reads both. Items: messages (input_text, output_text, input_image), function_call and
// function_call_output. Other items are a 400 naming them.
#include <nlohmann/json.hpp>

namespace muse::server {

nlohmann::json responses_to_chat_body(const nlohmann::json & body);

}  // namespace muse::server
