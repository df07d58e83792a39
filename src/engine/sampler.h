#pragma once
// Engine-internal: a common_sampler built from muse's settings and a chat prompt.
#include "engine/chat-prompt.h"
#include "engine/sampling-params.h"
#include "engine/token-stats.h"
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

// What llama-common's chain comes down to for the usual settings, done without its pass over
// the whole vocabulary (it copies every logit into candidates, then sorts or exponentiates all
// of them: ~0.5 ms a token on a 152k vocabulary, 3% of a 16-agent contemplation on 2 cores).
//   argmax: plain greedy (temperature 0, no grammar, penalty or reasoning budget) — the most
//           likely token no bias masks.
//   top_k:  the chain's first step that acts is top-k (no grammar, penalty, reasoning budget,
//           DRY or top-n-sigma before it) — the k most likely unmasked tokens, sorted, go to
//           the chain, which does with them what it would have done after its own top-k.
// Masked tokens are those the chain's logit bias sets to -inf (ignore_eos, the vocabulary's
// suppressed ones).
struct sampling_shortcut {
    enum class kind { chain, argmax, top_k };
    kind                 how   = kind::chain;
    int32_t              top_k = 0;
    std::vector<int32_t> masked;

    // The first most likely unmasked token of `logits` (writes -inf to the masked ones).
    int32_t argmax(float * logits, int32_t n_vocab) const;
    // The token `chain` samples from `logits` (writes -inf to the masked ones). The chain's
    // state (its random generator) advances as in common_sampler_sample; accepting the token is
    // the caller's. `before_masks` (optional): the row's top_logits taken before the masks
    // (this shortcut's and any the caller applied since), at least top_k of them — reused when
    // the masks left its first top_k alone, which then are the masked row's top k.
    int32_t sample_top_k(common_sampler * chain, float * logits, int32_t n_vocab,
                         const ranked_logits * before_masks = nullptr) const;
};

// `prompt` may be null (raw completion without a chat template). `shortcut` (optional) says
// which shortcut, if any, gives the sampler's choice.
sampler_ptr sampler_make(const llama_model * mdl, const sampling_params & sp, const chat_prompt * prompt,
                         std::set<int32_t> * preserved_tokens, sampling_shortcut * shortcut = nullptr);

}  // namespace muse
