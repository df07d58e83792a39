#include "text-models.h"

#include <stdexcept>

#include "vocab.h"

namespace muse::tools {

namespace {

std::string layer_tensor(uint32_t il, const char * name) {
    return "blk." + std::to_string(il) + "." + name + ".weight";
}

void hparams_check(const text_hparams & hp) {
    if (hp.n_embd == 0 || hp.n_layer == 0 || hp.n_head == 0 || hp.n_head_kv == 0 || hp.head_dim == 0 || hp.n_ff == 0 ||
        hp.n_head % hp.n_head_kv != 0) {
        throw std::logic_error(hp.name + ": incomplete or inconsistent hparams");
    }
    if (hp.arch == TEXT_ARCH_LLAMA && hp.head_dim * hp.n_head != hp.n_embd) {
        throw std::logic_error(hp.name + ": llama needs head_dim * n_head == n_embd");
    }
    if (hp.arch == TEXT_ARCH_MUSE_GLIMMER && (hp.swa_layers.size() != hp.n_layer || hp.n_swa == 0)) {
        throw std::logic_error(hp.name + ": muse-glimmer needs a sliding window and one swa flag per layer");
    }
    if (hp.arch == TEXT_ARCH_MUSE_GLIMMER && hp.tied_output) {
        throw std::logic_error(hp.name + ": muse-glimmer always loads output.weight; it has no tied variant");
    }
}

void keys_add(model_file & file, const text_hparams & hp, uint32_t n_vocab) {
    const std::string arch = text_arch_name(hp.arch);
    const auto        key  = [&](const char * suffix) { return arch + "." + suffix; };

    file.set_str("general.architecture", arch);
    file.set_str("general.name", hp.name);
    file.set_str("general.description", "random weights for tests and benchmarks; not a trained model");
    file.set_u32("general.file_type", hp.file_type);
    file.set_u32("general.quantization_version", GGML_QNT_VERSION);

    file.set_u32(key("vocab_size"), n_vocab);
    file.set_u32(key("context_length"), hp.n_ctx_train);
    file.set_u32(key("embedding_length"), hp.n_embd);
    file.set_u32(key("block_count"), hp.n_layer);
    file.set_u32(key("feed_forward_length"), hp.n_ff);
    file.set_u32(key("attention.head_count"), hp.n_head);
    file.set_u32(key("attention.head_count_kv"), hp.n_head_kv);
    file.set_u32(key("attention.key_length"), hp.head_dim);
    file.set_u32(key("attention.value_length"), hp.head_dim);
    file.set_u32(key("rope.dimension_count"), hp.head_dim);
    file.set_f32(key("rope.freq_base"), hp.rope_freq_base);
    file.set_f32(key("attention.layer_norm_rms_epsilon"), hp.rms_eps);
    if (hp.pooling != LLAMA_POOLING_TYPE_UNSPECIFIED) {
        file.set_u32(key("pooling_type"), (uint32_t)hp.pooling);
    }

    if (hp.arch == TEXT_ARCH_MUSE_GLIMMER) {
        file.set_u32(key("attention.sliding_window"), hp.n_swa);
        file.set_arr_bool(key("attention.sliding_window_pattern"), hp.swa_layers);
        file.set_f32(key("logit_scale"), hp.logit_scale);
        if (hp.logit_softcap > 0.0f) {
            file.set_f32(key("final_logit_softcapping"), hp.logit_softcap);
        }
    }
}

void layer_add(model_file & file, const text_hparams & hp, uint32_t il) {
    const int64_t     n_embd  = hp.n_embd;
    const int64_t     n_q     = (int64_t)hp.head_dim * hp.n_head;
    const int64_t     n_kv    = (int64_t)hp.head_dim * hp.n_head_kv;
    const int64_t     n_ff    = hp.n_ff;
    const ggml_type   type    = hp.type_matmul;
    const tensor_init weight  = init_weight(hp.weight_stdev);
    const bool        qk_norm = hp.arch == TEXT_ARCH_QWEN3 || hp.arch == TEXT_ARCH_MUSE_GLIMMER;
    const bool        glimmer = hp.arch == TEXT_ARCH_MUSE_GLIMMER;

    file.tensor_add(layer_tensor(il, "attn_norm"), GGML_TYPE_F32, { n_embd }, init_norm());
    file.tensor_add(layer_tensor(il, "attn_q"), type, { n_embd, n_q }, weight);
    file.tensor_add(layer_tensor(il, "attn_k"), type, { n_embd, n_kv }, weight);
    file.tensor_add(layer_tensor(il, "attn_v"), type, { n_embd, n_kv }, weight);
    file.tensor_add(layer_tensor(il, "attn_output"), type, { n_q, n_embd }, weight);
    if (qk_norm) {
        // muse-glimmer's converter folds a constant scale into q_norm and leaves k_norm at 1.
        const tensor_init q_norm = glimmer ? init_const(1.0f) : init_norm();
        const tensor_init k_norm = glimmer ? init_const(1.0f) : init_norm();
        file.tensor_add(layer_tensor(il, "attn_q_norm"), GGML_TYPE_F32, { hp.head_dim }, q_norm);
        file.tensor_add(layer_tensor(il, "attn_k_norm"), GGML_TYPE_F32, { hp.head_dim }, k_norm);
    }
    if (glimmer) {
        file.tensor_add(layer_tensor(il, "attn_gate"), type, { n_embd, n_q }, weight);
        file.tensor_add(layer_tensor(il, "post_attention_norm"), GGML_TYPE_F32, { n_embd }, init_norm());
    }

    file.tensor_add(layer_tensor(il, "ffn_norm"), GGML_TYPE_F32, { n_embd }, init_norm());
    file.tensor_add(layer_tensor(il, "ffn_gate"), type, { n_embd, n_ff }, weight);
    file.tensor_add(layer_tensor(il, "ffn_up"), type, { n_embd, n_ff }, weight);
    file.tensor_add(layer_tensor(il, "ffn_down"), type, { n_ff, n_embd }, weight);
    if (glimmer) {
        file.tensor_add(layer_tensor(il, "post_ffw_norm"), GGML_TYPE_F32, { n_embd }, init_norm());
    }
}

}  // namespace

const char * text_arch_name(text_arch arch) {
    switch (arch) {
        case TEXT_ARCH_LLAMA:
            return "llama";
        case TEXT_ARCH_QWEN3:
            return "qwen3";
        case TEXT_ARCH_MUSE_GLIMMER:
            return "muse-glimmer";
    }
    return "?";
}

void text_model_add(model_file & file, const text_hparams & hp, const gguf_context * vocab) {
    hparams_check(hp);

    const uint32_t n_vocab = vocab_n_tokens(vocab);
    keys_add(file, hp, n_vocab);
    gguf_set_kv(file.meta(), vocab);

    const tensor_init weight = init_weight(hp.weight_stdev);
    file.tensor_add("token_embd.weight", hp.type_embd, { hp.n_embd, n_vocab }, weight);
    for (uint32_t il = 0; il < hp.n_layer; il++) {
        layer_add(file, hp, il);
    }
    file.tensor_add("output_norm.weight", GGML_TYPE_F32, { hp.n_embd }, init_norm());
    if (!hp.tied_output) {
        file.tensor_add("output.weight", hp.type_embd, { hp.n_embd, n_vocab }, weight);
    }
}

}  // namespace muse::tools
