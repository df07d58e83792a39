#pragma once
// How many tokens a rendered prompt holds, its images and audio included:
// what the prompt would cost before it runs (Anthropic's count_tokens, OpenAI's
// responses/input_tokens). Tokenizes only; nothing is decoded or encoded.
#include "engine/chat-prompt.h"
#include "engine/media.h"

#include <vector>

namespace muse {

class model;

// Throws input_error when the media do not match the prompt's placeholders or the model has
// no projector for them.
int32_t prompt_token_count(const model & mdl, const chat_prompt & prompt, const std::vector<media> & media_list);

}  // namespace muse
