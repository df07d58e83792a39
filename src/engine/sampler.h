#pragma once
// Engine-internal: a common_sampler built from muse's settings and a chat prompt.
#include "engine/chat-prompt.h"
#include "engine/sampling-params.h"
#include "sampling.h"

#include <memory>
#include <set>
#include <vector>

struct llama_model;

namespace muse {

struct sampler_deleter {
    void operator()(common_sampler * s) const { common_sampler_free(s); }
};
using sampler_ptr = std::unique_ptr<common_sampler, sampler_deleter>;

// What sampling comes down to when it is plain greedy (temperature 0, no grammar, no penalty,
// no reasoning budget): the most likely token that no bias masks. llama-common's chain picks
// the same token, but copies the whole vocabulary into candidates and exponentiates all of it
// (~1 ms a token on a 152k vocabulary: a tenth of a 16-sequence decode step on 2 cores).
struct greedy_argmax {
    bool                 on = false;
    std::vector<int32_t> masked;  // tokens the chain would never pick (-inf biases, suppressed)

    // The first most likely token of `logits` once the masked ones are out (writes -inf to them).
    int32_t pick(float * logits, int32_t n_vocab) const;
};

// `prompt` may be null (raw completion without a chat template). `greedy` (optional) says
// whether the sampler's choice is the plain argmax, and what it masks.
sampler_ptr sampler_make(const llama_model * mdl, const sampling_params & sp, const chat_prompt * prompt,
                         std::set<int32_t> * preserved_tokens, greedy_argmax * greedy = nullptr);

}  // namespace muse
