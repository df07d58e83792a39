#include "projectors.h"

#include <stdexcept>

namespace muse::tools {

namespace {

std::string block_tensor(const char * prefix, uint32_t il, const char * name, const char * suffix) {
    return std::string(prefix) + ".blk." + std::to_string(il) + "." + name + "." + suffix;
}

void clip_keys_add(model_file & file, const std::string & name, const char * modality, const char * projector) {
    file.set_str("general.architecture", "clip");
    file.set_str("general.name", name);
    file.set_str("general.description", "random weights for tests; not a trained projector");
    file.set_u32("general.file_type", 1);  // F16 matrices
    file.set_bool(std::string("clip.has_") + modality + "_encoder", true);
    file.set_str("clip.projector_type", projector);
}

// The per-layer tensors build_vit() in clip.cpp uses: layer norms with biases, q/k/v/out
// projections and a two-matrix FFN. Whisper has no bias on k.
void encoder_layers_add(model_file & file, const char * prefix, uint32_t n_layer, int64_t n_embd, int64_t n_ff,
                        float stdev, bool k_bias) {
    const tensor_init weight = init_weight(stdev);
    for (uint32_t il = 0; il < n_layer; il++) {
        const auto name = [&](const char * t, const char * suffix) { return block_tensor(prefix, il, t, suffix); };
        file.tensor_add(name("ln1", "weight"), GGML_TYPE_F32, { n_embd }, init_norm());
        file.tensor_add(name("ln1", "bias"), GGML_TYPE_F32, { n_embd }, init_bias());
        for (const char * proj : { "attn_q", "attn_k", "attn_v", "attn_out" }) {
            file.tensor_add(name(proj, "weight"), GGML_TYPE_F16, { n_embd, n_embd }, weight);
            if (k_bias || std::string(proj) != "attn_k") {
                file.tensor_add(name(proj, "bias"), GGML_TYPE_F32, { n_embd }, init_bias());
            }
        }
        file.tensor_add(name("ln2", "weight"), GGML_TYPE_F32, { n_embd }, init_norm());
        file.tensor_add(name("ln2", "bias"), GGML_TYPE_F32, { n_embd }, init_bias());
        file.tensor_add(name("ffn_up", "weight"), GGML_TYPE_F16, { n_embd, n_ff }, weight);
        file.tensor_add(name("ffn_up", "bias"), GGML_TYPE_F32, { n_ff }, init_bias());
        file.tensor_add(name("ffn_down", "weight"), GGML_TYPE_F16, { n_ff, n_embd }, weight);
        file.tensor_add(name("ffn_down", "bias"), GGML_TYPE_F32, { n_embd }, init_bias());
    }
}

}  // namespace

void vision_projector_add(model_file & file, const vision_hparams & hp) {
    if (hp.n_embd_text == 0 || hp.n_embd % hp.n_head != 0 || (hp.n_embd / hp.n_head) % 4 != 0) {
        throw std::logic_error(hp.name + ": needs n_embd_text, and a head size that 2D RoPE can split in four");
    }
    const int64_t     n_embd = hp.n_embd;
    const tensor_init weight = init_weight(hp.weight_stdev);

    clip_keys_add(file, hp.name, "vision", "muse-glimmer");
    file.set_u32("clip.vision.embedding_length", hp.n_embd);
    file.set_u32("clip.vision.feed_forward_length", hp.n_ff);
    file.set_u32("clip.vision.block_count", hp.n_layer);
    file.set_u32("clip.vision.projection_dim", hp.n_embd_text);
    file.set_u32("clip.vision.attention.head_count", hp.n_head);
    file.set_f32("clip.vision.attention.layer_norm_epsilon", 1e-6f);
    // The nominal size, as conversion/muse_glimmer.py writes it; images are resized
    // dynamically to any multiple of patch_size * n_merge.
    file.set_u32("clip.vision.image_size", hp.pos_grid * hp.patch_size * hp.n_merge);
    file.set_u32("clip.vision.patch_size", hp.patch_size);
    file.set_u32("clip.vision.spatial_merge_size", hp.n_merge);
    file.set_arr_f32("clip.vision.image_mean", { 0.5f, 0.5f, 0.5f });
    file.set_arr_f32("clip.vision.image_std", { 0.5f, 0.5f, 0.5f });

    const int64_t ps = hp.patch_size;
    file.tensor_add("v.patch_embd.weight", GGML_TYPE_F16, { ps, ps, 3, n_embd }, weight);
    file.tensor_add("v.patch_embd.bias", GGML_TYPE_F32, { n_embd }, init_bias());
    file.tensor_add("v.position_embd.weight", GGML_TYPE_F32, { n_embd, (int64_t)hp.pos_grid * hp.pos_grid }, weight);
    file.tensor_add("v.pre_ln.weight", GGML_TYPE_F32, { n_embd }, init_norm());
    file.tensor_add("v.pre_ln.bias", GGML_TYPE_F32, { n_embd }, init_bias());
    encoder_layers_add(file, "v", hp.n_layer, n_embd, hp.n_ff, hp.weight_stdev, /*k_bias =*/true);
    file.tensor_add("v.post_ln.weight", GGML_TYPE_F32, { n_embd }, init_norm());
    file.tensor_add("v.post_ln.bias", GGML_TYPE_F32, { n_embd }, init_bias());

    const int64_t n_shuffled = n_embd * hp.n_merge * hp.n_merge;
    file.tensor_add("mm.0.weight", GGML_TYPE_F16, { n_shuffled, hp.n_mm_hidden }, weight);
    file.tensor_add("mm.1.weight", GGML_TYPE_F16, { hp.n_mm_hidden, hp.n_mm_hidden }, weight);
    file.tensor_add("mm.2.weight", GGML_TYPE_F16, { hp.n_mm_hidden, hp.n_embd_text }, weight);
}

void audio_projector_add(model_file & file, const audio_hparams & hp) {
    if (hp.n_embd_text == 0 || hp.n_embd % hp.n_head != 0) {
        throw std::logic_error(hp.name + ": needs n_embd_text and n_embd divisible by n_head");
    }
    const int64_t     n_embd = hp.n_embd;
    const tensor_init weight = init_weight(hp.weight_stdev);

    clip_keys_add(file, hp.name, "audio", "ultravox");
    file.set_u32("clip.audio.embedding_length", hp.n_embd);
    file.set_u32("clip.audio.feed_forward_length", hp.n_ff);
    file.set_u32("clip.audio.block_count", hp.n_layer);
    file.set_u32("clip.audio.projection_dim", hp.n_embd_text);
    file.set_u32("clip.audio.attention.head_count", hp.n_head);
    file.set_f32("clip.audio.attention.layer_norm_epsilon", 1e-5f);
    file.set_u32("clip.audio.num_mel_bins", hp.n_mel_bins);
    file.set_u32("clip.audio.projector.stack_factor", hp.stack);

    // Conv biases are [1, channels] so they broadcast over time, as the converter lays them out.
    file.tensor_add("a.conv1d.1.weight", GGML_TYPE_F16, { 3, hp.n_mel_bins, n_embd }, weight);
    file.tensor_add("a.conv1d.1.bias", GGML_TYPE_F32, { 1, n_embd }, init_bias());
    file.tensor_add("a.conv1d.2.weight", GGML_TYPE_F16, { 3, n_embd, n_embd }, weight);
    file.tensor_add("a.conv1d.2.bias", GGML_TYPE_F32, { 1, n_embd }, init_bias());
    file.tensor_add("a.position_embd.weight", GGML_TYPE_F32, { n_embd, hp.n_positions }, weight);
    encoder_layers_add(file, "a", hp.n_layer, n_embd, hp.n_ff, hp.weight_stdev, /*k_bias =*/false);
    file.tensor_add("a.post_ln.weight", GGML_TYPE_F32, { n_embd }, init_norm());
    file.tensor_add("a.post_ln.bias", GGML_TYPE_F32, { n_embd }, init_bias());

    // SwiGLU: mlp.1 produces gate and value halves, mlp.2 maps into the text model.
    const int64_t n_stacked = n_embd * hp.stack;
    file.tensor_add("mm.a.norm_pre.weight", GGML_TYPE_F32, { n_stacked }, init_norm());
    file.tensor_add("mm.a.mlp.1.weight", GGML_TYPE_F16, { n_stacked, 2 * (int64_t)hp.n_mm_hidden }, weight);
    file.tensor_add("mm.a.norm_mid.weight", GGML_TYPE_F32, { hp.n_mm_hidden }, init_norm());
    file.tensor_add("mm.a.mlp.2.weight", GGML_TYPE_F16, { hp.n_mm_hidden, hp.n_embd_text }, weight);
}

}  // namespace muse::tools
