#include "vocab.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "gguf.h"

namespace muse::tools {

namespace {

const char * const KEY_TOKENS     = "tokenizer.ggml.tokens";
const char * const KEY_TOKEN_TYPE = "tokenizer.ggml.token_type";

const char * const FIX_LLAMA_CPP_DIR =
    "; pass --llama-cpp DIR pointing at a llama.cpp source tree (scripts/setup.sh fetches the pinned one)";

std::string text_file_read(const std::filesystem::path & path, const char * what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error(std::string("missing ") + what + " " + path.string() + FIX_LLAMA_CPP_DIR);
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

int64_t key_require(const gguf_context * ctx, const char * key, const std::filesystem::path & file) {
    const int64_t id = gguf_find_key(ctx, key);
    if (id < 0) {
        throw std::runtime_error("vocab file " + file.string() + " has no " + key + FIX_LLAMA_CPP_DIR);
    }
    return id;
}

// Only placeholder slots may be renamed: renaming a real token would silently change how
// ordinary text tokenizes.
bool token_is_placeholder(const std::string & text) {
    return text.rfind("<|reserved_special_token_", 0) == 0 || text.rfind("[PAD", 0) == 0;
}

void tokens_rename(gguf_context * vocab, const vocab_spec & spec) {
    const int64_t key_tokens = key_require(vocab, KEY_TOKENS, spec.vocab_file);
    const int64_t key_types  = key_require(vocab, KEY_TOKEN_TYPE, spec.vocab_file);
    const size_t  n_tokens   = gguf_get_arr_n(vocab, key_tokens);
    if (gguf_get_arr_type(vocab, key_types) != GGUF_TYPE_INT32 || gguf_get_arr_n(vocab, key_types) != n_tokens) {
        throw std::runtime_error("vocab file " + spec.vocab_file.string() + ": token types do not match the tokens" +
                                 FIX_LLAMA_CPP_DIR);
    }

    std::vector<std::string> tokens(n_tokens);
    for (size_t i = 0; i < n_tokens; i++) {
        tokens[i] = gguf_get_arr_str(vocab, key_tokens, i);
    }
    const auto *         types_data = (const int32_t *)gguf_get_arr_data(vocab, key_types);
    std::vector<int32_t> types(types_data, types_data + n_tokens);

    for (const token_rename & r : spec.renames) {
        if (r.id < 0 || (size_t)r.id >= n_tokens) {
            throw std::logic_error("token id " + std::to_string(r.id) + " is outside " + spec.vocab_file.string());
        }
        if (!token_is_placeholder(tokens[(size_t)r.id])) {
            throw std::runtime_error("vocab file " + spec.vocab_file.string() + ": token " + std::to_string(r.id) +
                                     " is '" + tokens[(size_t)r.id] + "', expected a reserved slot for " + r.text +
                                     FIX_LLAMA_CPP_DIR);
        }
        for (const std::string & t : tokens) {
            if (t == r.text) {
                throw std::logic_error("token " + r.text + " already exists in " + spec.vocab_file.string());
            }
        }
        tokens[(size_t)r.id] = r.text;
        types[(size_t)r.id]  = r.type;
    }

    std::vector<const char *> token_ptrs(n_tokens);
    for (size_t i = 0; i < n_tokens; i++) {
        token_ptrs[i] = tokens[i].c_str();
    }
    gguf_set_arr_str(vocab, KEY_TOKENS, token_ptrs.data(), n_tokens);
    gguf_set_arr_data(vocab, KEY_TOKEN_TYPE, GGUF_TYPE_INT32, types.data(), n_tokens);
}

}  // namespace

gguf_context_ptr vocab_load(const vocab_spec & spec) {
    if (!std::filesystem::exists(spec.vocab_file)) {
        throw std::runtime_error("missing vocab file " + spec.vocab_file.string() + FIX_LLAMA_CPP_DIR);
    }
    const gguf_init_params params = { /*no_alloc =*/true, /*ctx =*/nullptr };
    gguf_context_ptr       src(gguf_init_from_file(spec.vocab_file.c_str(), params));
    if (!src) {
        throw std::runtime_error("cannot read vocab file " + spec.vocab_file.string() + ": not a valid GGUF file" +
                                 FIX_LLAMA_CPP_DIR);
    }

    // Copy everything, then drop what is not the tokenizer: the vocab files also carry the
    // hparams of the model they came from, which must not leak into ours.
    gguf_context_ptr vocab(gguf_init_empty());
    gguf_set_kv(vocab.get(), src.get());
    for (int64_t i = gguf_get_n_kv(vocab.get()) - 1; i >= 0; i--) {
        const std::string key = gguf_get_key(vocab.get(), i);
        if (key.rfind("tokenizer.", 0) != 0) {
            gguf_remove_key(vocab.get(), key.c_str());
        }
    }

    if (!spec.renames.empty()) {
        tokens_rename(vocab.get(), spec);
    }
    if (spec.eos_id) {
        gguf_set_val_u32(vocab.get(), "tokenizer.ggml.eos_token_id", *spec.eos_id);
    }
    if (spec.eot_id) {
        gguf_set_val_u32(vocab.get(), "tokenizer.ggml.eot_token_id", *spec.eot_id);
    }
    if (spec.add_bos) {
        gguf_set_val_bool(vocab.get(), "tokenizer.ggml.add_bos_token", *spec.add_bos);
    }
    if (spec.add_eos) {
        gguf_set_val_bool(vocab.get(), "tokenizer.ggml.add_eos_token", *spec.add_eos);
    }

    const std::string chat_template = text_file_read(spec.template_file, "chat template");
    gguf_set_val_str(vocab.get(), "tokenizer.chat_template", chat_template.c_str());
    return vocab;
}

uint32_t vocab_n_tokens(const gguf_context * vocab) {
    return (uint32_t)gguf_get_arr_n(vocab, gguf_find_key(vocab, KEY_TOKENS));
}

int32_t vocab_token_id(const gguf_context * vocab, const std::string & text) {
    const int64_t key = gguf_find_key(vocab, KEY_TOKENS);
    const size_t  n   = gguf_get_arr_n(vocab, key);
    for (size_t i = 0; i < n; i++) {
        if (text == gguf_get_arr_str(vocab, key, i)) {
            return (int32_t)i;
        }
    }
    throw std::logic_error("token " + text + " is not in the vocabulary");
}

}  // namespace muse::tools
