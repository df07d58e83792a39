#pragma once
// Decoder-only text models in llama.cpp's own layouts: the keys and tensors that
// src/models/<arch>.cpp loads, nothing more (llama.cpp refuses files with extra tensors).
#include <cstdint>
#include <string>
#include <vector>

#include "llama.h"
#include "model-file.h"

namespace muse::tools {

enum text_arch {
    TEXT_ARCH_LLAMA,
    TEXT_ARCH_QWEN3,
    TEXT_ARCH_MUSE_GLIMMER,
};

struct text_hparams {
    text_arch   arch = TEXT_ARCH_LLAMA;
    std::string name;  // general.name
    uint32_t    n_ctx_train    = 4096;
    uint32_t    n_embd         = 0;
    uint32_t    n_layer        = 0;
    uint32_t    n_head         = 0;
    uint32_t    n_head_kv      = 0;
    uint32_t    head_dim       = 0;  // may differ from n_embd / n_head (qwen3, muse-glimmer)
    uint32_t    n_ff           = 0;
    float       rope_freq_base = 10000.0f;
    float       rms_eps        = 1e-5f;
    bool        tied_output    = true;  // no output.weight: the logits reuse token_embd
    ggml_type   type_matmul    = GGML_TYPE_F16;
    ggml_type   type_embd      = GGML_TYPE_Q8_0;  // token_embd and output
    uint32_t    file_type      = 1;               // general.file_type, a llama_ftype
    float       weight_stdev   = 0.02f;
    // <arch>.pooling_type: how an embedding model pools its token states into one vector.
    // UNSPECIFIED writes no key (a generative model).
    enum llama_pooling_type pooling = LLAMA_POOLING_TYPE_UNSPECIFIED;  // "enum": llama.h has a function of that name

    // muse-glimmer only
    uint32_t          n_swa = 0;   // sliding window, in tokens
    std::vector<bool> swa_layers;  // true: sliding-window layer with RoPE; false: full, NoPE
    float             logit_scale   = 1.0f;
    float             logit_softcap = 0.0f;
};

const char * text_arch_name(text_arch arch);

// Adds the hparams keys, `vocab`'s tokenizer keys and every tensor the architecture loads.
void text_model_add(model_file & file, const text_hparams & hp, const gguf_context * vocab);

}  // namespace muse::tools
