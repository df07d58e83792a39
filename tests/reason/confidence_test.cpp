#include "engine/token-stats.h"
#include "reason/confidence.h"

#include <gtest/gtest.h>
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

using namespace muse;
using namespace muse::reason;

TEST(token_stats, confidence_is_high_for_peaked_distributions) {
    std::vector<float> flat(1000, 0.0f), peaked(1000, 0.0f);
    peaked[3] = 20.0f;
    const auto f = token_stats_of(flat.data(), 1000, 5);
    const auto p = token_stats_of(peaked.data(), 1000, 5);
    EXPECT_NEAR(f.confidence, std::log(1000.0), 1e-3);  // uniform: every log-prob is -log(1000)
    EXPECT_GT(p.confidence, f.confidence);
    EXPECT_NEAR(peaked[3] - p.log_z, 0.0, 1e-3);        // the peak holds almost all the mass
}

// The vectorised log-sum-exp against a double-precision reference, on a vocabulary-sized row
// with a wide spread of logits and masked (-inf) entries.
TEST(token_stats, log_normaliser_matches_double_precision) {
    std::vector<float> row(151936);
    uint32_t           x = 12345;
    for (auto & l : row) {
        x = x * 1664525u + 1013904223u;
        l = (float) (x >> 8) / (float) (1u << 24) * 60.0f - 40.0f;  // uniform in [-40, 20)
    }
    for (size_t i = 0; i < row.size(); i += 97) row[i] = -INFINITY;
    for (float shift : { 0.0f, 25.0f, -300.0f }) {
        std::vector<float> r = row;
        for (auto & l : r) l += shift;
        double m = -INFINITY, sum = 0;
        for (float l : r) m = std::max(m, (double) l);
        for (float l : r) sum += std::exp((double) l - m);
        const double ref = m + std::log(sum);
        const auto   st  = token_stats_of(r.data(), (int32_t) r.size(), 20);
        EXPECT_NEAR(st.log_z, ref, 1e-4 * std::max(1.0, std::fabs(ref))) << "shift " << shift;
        // DeepConf's confidence: minus the mean log-probability of the 20 most likely tokens.
        std::vector<float> top = r;
        std::partial_sort(top.begin(), top.begin() + 20, top.end(), std::greater<float>());
        double mean = 0;
        for (int i = 0; i < 20; ++i) mean += (double) top[(size_t) i] - ref;
        EXPECT_NEAR(st.confidence, -mean / 20, 1e-4 * std::max(1.0, std::fabs(ref))) << "shift " << shift;
    }
}

// The k most likely tokens against a full sort, on rows with many equal logits (coarse values),
// masked entries, a length that is not a multiple of four, and k from 1 to more than the row.
TEST(token_stats, top_logits_are_the_sorted_k_largest_lower_token_first) {
    uint32_t x = 777;
    for (int32_t n : { 1, 7, 4096, 151937 }) {
        std::vector<float> row((size_t) n);
        for (auto & l : row) {
            x = x * 1664525u + 1013904223u;
            l = (float) ((x >> 16) % 200) * 0.25f - 30.0f;  // 200 distinct values: ties everywhere
        }
        for (size_t i = 3; i < row.size(); i += 101) row[i] = -INFINITY;
        std::vector<std::pair<float, int32_t>> ref;
        for (int32_t t = 0; t < n; ++t) ref.emplace_back(row[(size_t) t], t);
        std::sort(ref.begin(), ref.end(), [](const auto & a, const auto & b) {
            return a.first > b.first || (a.first == b.first && a.second < b.second);
        });
        for (int32_t k : { 0, 1, 20, 40, 1024, n + 5 }) {
            const auto got = top_logits(row.data(), n, k);
            const auto want = std::vector<std::pair<float, int32_t>>(ref.begin(), ref.begin() + std::min(k, n));
            EXPECT_EQ(got, want) << "n " << n << " k " << k;
        }
    }
}

TEST(confidence_window, tracks_the_lowest_full_window) {
    confidence_window w(3);
    for (double c : { 5.0, 5.0, 5.0, 1.0, 1.0, 1.0, 5.0 }) w.push(c);
    EXPECT_TRUE(w.full());
    EXPECT_NEAR(w.lowest(), 1.0, 1e-9);
    EXPECT_NEAR(w.current(), (1.0 + 1.0 + 5.0) / 3, 1e-9);
    EXPECT_NEAR(w.mean(), 23.0 / 7, 1e-9);
    confidence_window short_trace(10);
    short_trace.push(2.0);
    EXPECT_FALSE(short_trace.full());
    EXPECT_NEAR(short_trace.lowest(), 2.0, 1e-9);
}

TEST(percentile, interpolates) {
    EXPECT_DOUBLE_EQ(percentile({ 1, 2, 3, 4, 5 }, 50), 3);
    EXPECT_DOUBLE_EQ(percentile({ 1, 2, 3, 4, 5 }, 0), 1);
    EXPECT_DOUBLE_EQ(percentile({ 1, 2, 3, 4, 5 }, 100), 5);
    EXPECT_DOUBLE_EQ(percentile({ 10, 20 }, 25), 12.5);
    EXPECT_DOUBLE_EQ(percentile({}, 50), 0);
}
