#pragma once
// A loaded GGUF model, its optional multimodal projector and its chat templates.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct llama_model;
struct llama_vocab;
struct mtmd_context;
struct common_chat_templates;

namespace muse {

class backend;
class utf8_guard;

struct model_params {
    std::string path;
    std::string mmproj_path;          // empty: text only
    std::string chat_template;        // empty: the model's own template
    int         n_threads  = 0;       // projector encode threads; 0: all cores
    bool        use_mmap   = true;
    // Progress of the weights load, 0..1. Return false to cancel the load.
    std::function<bool(float)> on_progress;
};

struct model_info {
    std::string path;
    std::string arch;                 // general.architecture, e.g. "qwen3", "muse-glimmer"
    std::string name;                 // general.name, may be empty
    std::string description;          // llama.cpp's one-line description (type, size, quant)
    uint64_t    n_params     = 0;
    uint64_t    size_bytes   = 0;
    int32_t     n_ctx_train  = 0;
    int32_t     n_embd       = 0;
    int32_t     n_layer      = 0;
    int32_t     n_vocab      = 0;
    int32_t     n_head       = 0;
    int32_t     n_head_kv    = 0;
    uint64_t    kv_bytes_per_token = 0;  // K and V of one position, all layers, f16 cache
    std::string chat_template;        // the jinja source in use
    std::string mmproj_path;
    bool        has_vision     = false;
    bool        has_audio      = false;
    bool        has_tools      = false;  // the template renders tool definitions
    bool        has_reasoning  = false;  // the template has a reasoning channel that can be switched
};

class model {
  public:
    model(backend & be, const model_params & params);
    ~model();
    model(const model &)             = delete;
    model & operator=(const model &) = delete;

    const model_info & info() const { return info_; }

    llama_model *                 get() const;
    const llama_vocab *           vocab() const;
    mtmd_context *                projector() const;  // nullptr without --mmproj
    const common_chat_templates * templates() const;
    backend &                     get_backend() const { return backend_; }
    const utf8_guard &            utf8() const;
    // Text to tokens the way prompts are tokenized (BOS added as the model wants, special
    // tokens parsed).
    std::vector<int32_t>          tokenize(const std::string & text) const;
    // One token's text, special tokens as written ("<think>"); may be part of a UTF-8 character.
    const std::string &           token_text(int32_t token) const;
    // Where media goes in a prompt. Random per load, so that text in a message cannot forge it.
    const std::string &           media_marker() const { return media_marker_; }

  private:
    struct impl;
    backend &             backend_;
    std::unique_ptr<impl> impl_;
    model_info            info_;
    std::string           media_marker_;
};

// Checks that `path` exists and starts like a GGUF file; throws input_error naming the problem.
void gguf_file_check(const std::string & path, const char * what);

}  // namespace muse
