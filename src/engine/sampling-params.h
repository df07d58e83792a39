#pragma once
// Sampling settings a user can give. The sampler itself (llama-common's common_sampler, with
// grammar and reasoning-budget support) is built inside the engine from these plus the
// chat prompt's grammar and reasoning tags.
#include <cstdint>
#include <string>
#include <vector>

namespace muse {

struct sampling_params {
    uint32_t seed             = 0xFFFFFFFF;  // 0xFFFFFFFF: a random seed
    float    temperature      = 0.8f;        // <= 0: greedy
    int32_t  top_k            = 40;
    float    top_p            = 0.95f;
    float    min_p            = 0.05f;
    float    repeat_penalty   = 1.0f;        // 1: off
    int32_t  repeat_last_n    = 64;
    float    presence_penalty = 0.0f;
    float    frequency_penalty = 0.0f;
    bool     ignore_eos       = false;       // never end by itself (benchmarks: exactly max_tokens)

    // Checks ranges; throws input_error naming the field.
    void validate() const;
};

}  // namespace muse
