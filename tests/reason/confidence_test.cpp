#include "engine/token-stats.h"
#include "reason/confidence.h"

#include <gtest/gtest.h>
#include <cmath>
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
