#pragma once
// What the benchmarks share: prompt text of a given token length, the median of repeated runs,
// percentiles, and running an anchor tool from the pinned llama.cpp that prints one JSON object
// per line.
#include "engine/error.h"
#include "engine/model.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace muse::bench {

// Appends ordinary words to `text`, a sentence ending now and then, until `m` tokenizes it to
// at least `n_tokens`; `seed` picks the words.
inline void words_append(const model & m, std::string & text, int n_tokens, uint32_t seed) {
    static const char * words[] = { "river", "stone", "light", "garden", "number", "seven", "window", "market",
                                    "engine", "winter", "paper", "orange", "travel", "silver", "question", "table" };
    std::mt19937 rng(seed);
    while ((int) m.tokenize(text).size() < n_tokens) {
        text += words[rng() % 16];
        text += rng() % 9 == 0 ? ".\n" : " ";
    }
}

inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The q-quantile (0..1) of `v`, interpolated between the nearest ranks (median at q = 0.5).
inline double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const double pos = q * (double) (v.size() - 1);
    const size_t lo  = (size_t) pos;
    const size_t hi  = std::min(lo + 1, v.size() - 1);
    return v[lo] + (pos - (double) lo) * (v[hi] - v[lo]);
}

// Runs `cmd` and returns the stdout lines that parse as JSON objects holding `key`.
inline std::vector<nlohmann::json> jsonl_run(const std::string & cmd, const char * key) {
    std::unique_ptr<FILE, int (*)(FILE *)> pipe(popen(cmd.c_str(), "r"), pclose);
    if (!pipe) throw runtime_error("cannot run: " + cmd);
    std::vector<nlohmann::json> rows;
    char                        line[1 << 16];
    while (fgets(line, sizeof(line), pipe.get())) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_discarded() && j.is_object() && j.contains(key)) rows.push_back(std::move(j));
    }
    return rows;
}

}  // namespace muse::bench
