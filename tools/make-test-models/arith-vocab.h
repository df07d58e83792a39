#pragma once
// The tokenizer of muse-arith, the small model `muse train` teaches arithmetic: a
// SentencePiece-style ("llama") vocabulary of a few hundred tokens built here instead of read
// from llama.cpp's models/, so that embeddings stay cheap to train. Digits are single tokens
// (no piece holds a digit), every byte has a fallback token, and the words of Qwen3's chat
// template, of muse's python tool and of the task phrasing are pieces, so that a prompt with
// the tool's definition fits a short context. The chat template is Qwen3's (reasoning in
// <think>, tool calls in <tool_call>), which muse and llama-common already read.
#include <filesystem>

#include "ggml-cpp.h"

namespace muse::tools {

// The tokenizer.* keys, the chat template read from `template_file` (Qwen3's).
gguf_context_ptr arith_vocab_build(const std::filesystem::path & template_file);

}  // namespace muse::tools
