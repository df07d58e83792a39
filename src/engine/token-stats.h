#pragma once
// Statistics of one next-token distribution, from raw logits: the log normaliser (so that
// any token's log-probability is logit - log_z) and DeepConf's token confidence, the
// negative mean log-probability of the k most likely tokens (higher = more certain).
#include <cstdint>
#include <utility>
#include <vector>

namespace muse {

struct token_stats {
    float log_z      = 0.0f;
    float confidence = 0.0f;  // 0 when top_k <= 0
};

using ranked_logits = std::vector<std::pair<float, int32_t>>;  // (logit, token), largest first

// The k largest logits with their tokens, largest first; of equal logits the lower token comes
// first. One pass over the vocabulary, four logits skipped per vector compare.
ranked_logits top_logits(const float * logits, int32_t n_vocab, int32_t k);

token_stats token_stats_of(const float * logits, int32_t n_vocab, int32_t top_k);
// The same, given the row's top_logits (at least top_k of them, or all when fewer than top_k
// exist): one pass over the vocabulary instead of three.
token_stats token_stats_of(const float * logits, int32_t n_vocab, const ranked_logits & top, int32_t top_k);

}  // namespace muse
