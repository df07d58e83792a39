#include "engine/token-stats.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace muse {

token_stats token_stats_of(const float * logits, int32_t n_vocab, int32_t top_k) {
    token_stats out;
    float       max_logit = -INFINITY;
    for (int32_t i = 0; i < n_vocab; ++i) {
        max_logit = std::max(max_logit, logits[i]);
    }
    double sum = 0.0;
    for (int32_t i = 0; i < n_vocab; ++i) {
        sum += std::exp((double) (logits[i] - max_logit));
    }
    out.log_z = max_logit + (float) std::log(sum);
    if (top_k <= 0) {
        return out;
    }
    // The k largest logits with a small min-heap: one pass, no copy of the vocabulary.
    const size_t       k = (size_t) std::min(top_k, n_vocab);
    std::vector<float> heap;
    heap.reserve(k);
    for (int32_t i = 0; i < n_vocab; ++i) {
        if (heap.size() < k) {
            heap.push_back(logits[i]);
            std::push_heap(heap.begin(), heap.end(), std::greater<float>());
        } else if (logits[i] > heap.front()) {
            std::pop_heap(heap.begin(), heap.end(), std::greater<float>());
            heap.back() = logits[i];
            std::push_heap(heap.begin(), heap.end(), std::greater<float>());
        }
    }
    double mean_logprob = 0.0;
    for (float l : heap) {
        mean_logprob += (double) (l - out.log_z);
    }
    out.confidence = (float) (-mean_logprob / (double) k);
    return out;
}

}  // namespace muse
