#pragma once
// A rendered prompt with images or audio as the projector tokenizes it (text chunks and media
// chunks, in order), and how many tokens a prompt holds, media included: what a sequence
// decodes, and what a request would cost before it runs (Anthropic's count_tokens, OpenAI's
// responses/input_tokens). Tokenizes only; nothing is decoded or encoded.
#include "engine/chat-prompt.h"
#include "engine/media.h"

#include <memory>
#include <vector>

struct mtmd_input_chunks;

namespace muse {

class model;

// Throws input_error when the model has no projector, or the media do not match the
// prompt's placeholders.
std::shared_ptr<mtmd_input_chunks> prompt_chunks(const model & mdl, const chat_prompt & prompt,
                                                 const std::vector<media> & media_list);

int32_t prompt_token_count(const model & mdl, const chat_prompt & prompt, const std::vector<media> & media_list);

}  // namespace muse
