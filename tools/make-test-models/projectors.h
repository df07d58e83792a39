#pragma once
// Multimodal projectors (mmproj files) in the layouts tools/mtmd/clip.cpp loads: the
// muse-glimmer vision tower and an ultravox (whisper encoder) audio tower.
#include <cstdint>
#include <string>

#include "model-file.h"

namespace muse::tools {

// muse-glimmer ViT: patchify conv, learned position grid, layers whose attention is
// restricted to pos_grid x pos_grid windows (every 4th and the last layer global), 2x2
// pixel-shuffle, then a 3-layer MLP into the text model's embedding space.
struct vision_hparams {
    std::string name;
    uint32_t    n_embd       = 128;
    uint32_t    n_head       = 2;
    uint32_t    n_ff         = 256;
    uint32_t    n_layer      = 4;
    uint32_t    patch_size   = 8;
    uint32_t    pos_grid     = 4;    // position-embedding grid side, also the attention window side
    uint32_t    n_merge      = 2;    // pixel-shuffle factor
    uint32_t    n_mm_hidden  = 128;  // adapter MLP width
    uint32_t    n_embd_text  = 0;    // must equal the text model's n_embd
    float       weight_stdev = 0.02f;
};

// Whisper-style encoder (2 convs, learned positions, pre-norm layers) + ultravox's
// frame stacking and SwiGLU projector, as in ultravox-v0_5-llama-3_2-1b.
struct audio_hparams {
    std::string name;
    uint32_t    n_embd      = 64;
    uint32_t    n_head      = 1;
    uint32_t    n_ff        = 256;
    uint32_t    n_layer     = 2;
    uint32_t    n_mel_bins  = 128;
    uint32_t    n_positions = 1500;  // 30 s of 10 ms frames, halved by the stride-2 conv
    // Frames stacked into one projector input. The real ultravox uses 8, but the pinned
    // clip.cpp then counts 187 tokens for a 30 s chunk while its graph makes 188 (1500 / 8
    // rounded up) and aborts; 4 divides 1500, so both agree.
    uint32_t stack        = 4;
    uint32_t n_mm_hidden  = 128;
    uint32_t n_embd_text  = 0;
    float    weight_stdev = 0.02f;
};

void vision_projector_add(model_file & file, const vision_hparams & hp);
void audio_projector_add(model_file & file, const audio_hparams & hp);

}  // namespace muse::tools
