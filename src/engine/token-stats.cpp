#include "engine/token-stats.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

namespace muse {

namespace {

// Four floats at a time with GCC's vector extensions (SSE on x86-64, NEON on ARM): glibc's
// scalar exp over 151,936 logits per token was 1.6% of a 16-agent contemplation (perf), and
// GCC does not vectorise these loops on its own.
typedef float float4 __attribute__((vector_size(16)));
typedef int   int4 __attribute__((vector_size(16)));

float4 load4(const float * p) {
    float4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// e^x for x <= 0: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6 Taylor polynomial
// (relative error < 2e-7 there), 2^n put into the exponent bits. Under -87 (e^x < 1.7e-38,
// masked logits included) it gives e^-87.
float4 exp_nonpositive(float4 x) {
    const float4 lo = { -87.0f, -87.0f, -87.0f, -87.0f };
    x               = x < lo ? lo : x;
    // Adding and taking away 1.5 * 2^23 rounds to the nearest integer.
    const float4 n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    const float4 r = x - n * 0.693147181f;
    const float4 p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
    const int4   e = (__builtin_convertvector(n, int4) + 127) << 23;
    return p * (float4) e;
}

}  // namespace

token_stats token_stats_of(const float * logits, int32_t n_vocab, int32_t top_k) {
    return token_stats_of(logits, n_vocab, top_logits(logits, n_vocab, std::max(top_k, 1)), top_k);
}

token_stats token_stats_of(const float * logits, int32_t n_vocab, const ranked_logits & top, int32_t top_k) {
    token_stats out;
    if (n_vocab <= 0 || top.empty()) {
        return out;
    }
    const float max_logit = top.front().first;
    // Four float partial sums (each adds ~38k terms in [0, 1]), totalled in double.
    const int32_t n4 = n_vocab / 4 * 4;
    float4        s4 = {};
    for (int32_t i = 0; i < n4; i += 4) {
        s4 += exp_nonpositive(load4(logits + i) - max_logit);
    }
    double sum = (double) s4[0] + s4[1] + s4[2] + s4[3];
    for (int32_t i = n4; i < n_vocab; ++i) {
        sum += std::exp((double) (logits[i] - max_logit));
    }
    out.log_z = max_logit + (float) std::log(sum);
    const size_t k = (size_t) std::max(0, std::min(top_k, (int32_t) top.size()));
    if (k == 0) {
        return out;
    }
    double mean_logprob = 0.0;
    for (size_t i = 0; i < k; ++i) {
        mean_logprob += (double) (top[i].first - out.log_z);
    }
    out.confidence = (float) (-mean_logprob / (double) k);
    return out;
}

ranked_logits top_logits(const float * logits, int32_t n_vocab, int32_t k) {
    using entry = std::pair<float, int32_t>;
    // "Before" in the heap is "ranks higher": the heap's front is the lowest-ranked kept entry.
    const auto ranks_higher = [](const entry & a, const entry & b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    const size_t       n = (size_t) std::max(0, std::min(k, n_vocab));
    std::vector<entry> heap;
    heap.reserve(n);
    if (n == 0) {
        return heap;
    }
    // Tokens come in vocabulary order, so an equal logit never displaces a kept one.
    const auto offer = [&](float l, int32_t t) {
        if (heap.size() < n) {
            heap.emplace_back(l, t);
            std::push_heap(heap.begin(), heap.end(), ranks_higher);
        } else if (l > heap.front().first) {
            std::pop_heap(heap.begin(), heap.end(), ranks_higher);
            heap.back() = { l, t };
            std::push_heap(heap.begin(), heap.end(), ranks_higher);
        }
    };
    // Once the heap is full almost every logit is under its lowest: four at a time are skipped
    // with one vector compare.
    const int32_t n4 = n_vocab / 4 * 4;
    for (int32_t i = 0; i < n4; i += 4) {
        const float4 v = load4(logits + i);
        if (heap.size() == n) {
            const float  low = heap.front().first;
            const float4 t   = { low, low, low, low };
            const int4   gt  = v > t;
            if ((gt[0] | gt[1] | gt[2] | gt[3]) == 0) continue;
        }
        for (int j = 0; j < 4; ++j) offer(v[j], i + j);
    }
    for (int32_t i = n4; i < n_vocab; ++i) {
        offer(logits[i], i);
    }
    std::sort_heap(heap.begin(), heap.end(), ranks_higher);
    return heap;
}

}  // namespace muse
