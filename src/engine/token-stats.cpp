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
    token_stats out;
    const int32_t n4 = n_vocab / 4 * 4;
    float4        m4 = { -INFINITY, -INFINITY, -INFINITY, -INFINITY };
    for (int32_t i = 0; i < n4; i += 4) {
        const float4 v = load4(logits + i);
        m4             = v > m4 ? v : m4;
    }
    float max_logit = std::max(std::max(m4[0], m4[1]), std::max(m4[2], m4[3]));
    for (int32_t i = n4; i < n_vocab; ++i) {
        max_logit = std::max(max_logit, logits[i]);
    }
    // Four float partial sums (each adds ~38k terms in [0, 1]), totalled in double.
    float4 s4 = {};
    for (int32_t i = 0; i < n4; i += 4) {
        s4 += exp_nonpositive(load4(logits + i) - max_logit);
    }
    double sum = (double) s4[0] + s4[1] + s4[2] + s4[3];
    for (int32_t i = n4; i < n_vocab; ++i) {
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
    const auto offer = [&](float l) {
        if (heap.size() < k) {
            heap.push_back(l);
            std::push_heap(heap.begin(), heap.end(), std::greater<float>());
        } else if (l > heap.front()) {
            std::pop_heap(heap.begin(), heap.end(), std::greater<float>());
            heap.back() = l;
            std::push_heap(heap.begin(), heap.end(), std::greater<float>());
        }
    };
    // Once the heap is full almost every logit is under its smallest: four at a time are
    // skipped with one vector compare.
    for (int32_t i = 0; i < n4; i += 4) {
        const float4 v = load4(logits + i);
        if (heap.size() == k) {
            const float  low = heap.front();
            const float4 t   = { low, low, low, low };
            const int4   gt  = v > t;
            if ((gt[0] | gt[1] | gt[2] | gt[3]) == 0) continue;
        }
        for (int j = 0; j < 4; ++j) offer(v[j]);
    }
    for (int32_t i = n4; i < n_vocab; ++i) {
        offer(logits[i]);
    }
    double mean_logprob = 0.0;
    for (float l : heap) {
        mean_logprob += (double) (l - out.log_z);
    }
    out.confidence = (float) (-mean_logprob / (double) k);
    return out;
}

}  // namespace muse
