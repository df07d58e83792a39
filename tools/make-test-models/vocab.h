#pragma once
// A real tokenizer for a test model: the tokenizer.* keys of one of llama.cpp's
// models/ggml-vocab-*.gguf files, with reserved slots renamed to the special tokens a chat
// template needs, plus the template itself.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ggml-cpp.h"
#include "llama.h"

namespace muse::tools {

// Turns a placeholder token (e.g. "<|reserved_special_token_0|>" or "[PAD151667]") into a
// named special token, keeping its id so the model's ids match the real model's.
struct token_rename {
    int32_t          id;
    std::string      text;
    llama_token_type type;
};

struct vocab_spec {
    std::filesystem::path     vocab_file;     // models/ggml-vocab-*.gguf
    std::filesystem::path     template_file;  // models/templates/*.jinja
    std::vector<token_rename> renames;
    std::optional<uint32_t>   eos_id;
    std::optional<uint32_t>   eot_id;
    std::optional<bool>       add_bos;
    std::optional<bool>       add_eos;  // embedding models that pool the last token end every input with eos
};

// Returns a GGUF context holding only the edited tokenizer.* keys, ready for gguf_set_kv.
// Throws with the file name and the fix when a file is missing or not what we expect.
gguf_context_ptr vocab_load(const vocab_spec & spec);

uint32_t vocab_n_tokens(const gguf_context * vocab);

// The id of `text` in the vocabulary; throws when it is missing.
int32_t vocab_token_id(const gguf_context * vocab, const std::string & text);

}  // namespace muse::tools
