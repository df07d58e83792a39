#pragma once
// Engine-internal: a common_sampler built from muse's settings and a chat prompt.
#include "engine/chat-prompt.h"
#include "engine/sampling-params.h"
#include "sampling.h"

#include <memory>
#include <set>

struct llama_model;

namespace muse {

struct sampler_deleter {
    void operator()(common_sampler * s) const { common_sampler_free(s); }
};
using sampler_ptr = std::unique_ptr<common_sampler, sampler_deleter>;

// `prompt` may be null (raw completion without a chat template).
sampler_ptr sampler_make(const llama_model * mdl, const sampling_params & sp, const chat_prompt * prompt,
                         std::set<int32_t> * preserved_tokens);

}  // namespace muse
