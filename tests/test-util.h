#pragma once
// Shared helpers for the engine tests: the generated tiny models and a quick way to run
// one greedy generation.
#include "engine/backend.h"
#include "engine/chat-prompt.h"
#include "engine/model.h"
#include "engine/session.h"

#include <gtest/gtest.h>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace muse::test {

// One backend per test process: llama_backend_init and the log hook are process-wide.
inline backend & test_backend() {
    static backend be;
    return be;
}

inline std::string model_path(const std::string & file) { return std::string(MUSE_TEST_MODELS_DIR) + "/" + file; }

// The tiny models tools/make-test-models writes at build time.
inline const std::vector<std::string> & tiny_models() {
    static const std::vector<std::string> files = { "llama-tiny.gguf", "qwen3-tiny.gguf", "muse-glimmer-tiny.gguf" };
    return files;
}

// "muse-glimmer-tiny.gguf" -> "muse_glimmer_tiny", for parameterized test names.
inline std::string model_param_name(const ::testing::TestParamInfo<std::string> & info) {
    std::string n = info.param.substr(0, info.param.find('.'));
    for (auto & c : n) {
        if (c == '-') c = '_';
    }
    return n;
}

inline std::unique_ptr<model> model_open(backend & be, const std::string & file, const std::string & mmproj = "") {
    model_params p;
    p.path = model_path(file);
    if (!mmproj.empty()) {
        p.mmproj_path = model_path(mmproj);
    }
    return std::make_unique<model>(be, p);
}

inline context_params context_small(int32_t n_seq_max = 4, int32_t n_ctx = 2048) {
    context_params c;
    c.n_ctx     = n_ctx;
    c.n_seq_max = n_seq_max;
    c.n_batch   = 256;
    c.n_threads = 2;
    return c;
}

inline sequence_params greedy(int32_t max_tokens) {
    sequence_params sp;
    sp.sampling.temperature = 0.0f;
    sp.sampling.seed        = 1;
    sp.max_tokens           = max_tokens;
    return sp;
}

// A request whose template states a fixed date where it states one (Muse Glimmer, Llama 3), so
// that a test's prompt is the same tokens whichever day it runs.
inline chat_request dated_request() {
    chat_request req;
    req.template_kwargs["current_date"] = "\"2026-01-31\"";
    req.template_kwargs["date_string"]  = "\"31 Jan 2026\"";
    return req;
}

inline chat_prompt user_prompt(const model & m, const std::string & text, bool thinking = true) {
    chat_request req = dated_request();
    chat_message msg;
    msg.role    = "user";
    msg.content = text;
    req.messages.push_back(msg);
    req.enable_thinking = thinking;
    return chat_format(m, req, m.media_marker());
}

// Runs `seq` alone to the end; returns its generated tokens and the concatenated event text.
inline std::pair<std::vector<int32_t>, std::string> run_to_end(session & s, seq_handle seq) {
    std::string text;
    s.run(seq, [&](const token_event & ev) { text += ev.text; });
    return { s.sequence(seq).tokens, text };
}

// A greedy run of `prompt` alone in a fresh session, `forced` tokens placed after the prompt as
// if generated: each token with the log-probabilities of the five most likely.
struct greedy_step {
    int32_t                                token = -1;
    std::vector<std::pair<int32_t, float>> top;
};

inline std::vector<greedy_step> greedy_alone(model & m, const chat_prompt & prompt, const std::vector<int32_t> & forced,
                                             int32_t max_tokens) {
    session s(m, context_small());
    auto    sp   = greedy(max_tokens);
    sp.top_logprobs = 5;
    const auto h = s.sequence_add(prompt, {}, sp);
    if (!forced.empty()) s.sequence_append_tokens(h, forced);
    std::vector<greedy_step> steps;
    s.run(h, [&](const token_event & ev) { steps.push_back({ ev.token, ev.top_logprobs }); });
    return steps;
}

// Greedy tokens `got` of a batched, forked or resumed run equal the run of `prompt` alone, up to
// llama.cpp's arithmetic: the logits of a row in a batch differ from a lone row's in the last
// bits (up to 3e-3 on the tiny models), so where the lone run's best two tokens lie closer than
// that, either may come first. At such a near tie the check goes on from `got`'s choice with a
// lone run of the same history; every other token must be the lone run's, and both end together.
// Returns the number of near ties passed.
inline int expect_greedy_equals_alone(model & m, const chat_prompt & prompt, const std::vector<int32_t> & got,
                                      int32_t max_tokens, const std::string & what = "") {
    constexpr float near_tie = 0.01f;  // log-probability
    std::vector<greedy_step> lone = greedy_alone(m, prompt, {}, max_tokens);
    size_t                   base = 0;  // lone[j] is token base + j
    int                      ties = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (i - base >= lone.size()) {
            ADD_FAILURE() << what << ": " << got.size() << " tokens; alone the run ends after " << i;
            return ties;
        }
        const greedy_step & want = lone[i - base];
        if (got[i] == want.token) continue;
        float got_logprob = -INFINITY;
        for (const auto & [tok, lp] : want.top) {
            if (tok == got[i]) got_logprob = lp;
        }
        const float best_logprob = want.top.empty() ? 0.0f : want.top.front().second;
        if (!(best_logprob - got_logprob <= near_tie)) {
            ADD_FAILURE() << what << ": token " << i << " is " << got[i] << " where alone it is " << want.token
                          << " (log-probability " << got_logprob << " against " << best_logprob << ")";
            return ties;
        }
        ties++;
        if (i + 1 == got.size()) return ties;
        base = i + 1;
        lone = greedy_alone(m, prompt, std::vector<int32_t>(got.begin(), got.begin() + (std::ptrdiff_t) base),
                            max_tokens - (int32_t) base);
    }
    EXPECT_EQ(got.size(), base + lone.size()) << what << ": alone the run goes on";
    return ties;
}

// Generates from `prompt` for seeds 1..n_seeds at temperature 1, five sequences per batch,
// and hands each seed's text and finish reason to `check`.
template <typename F>
void seeds_run(model & m, const chat_prompt & prompt, uint32_t n_seeds, int32_t max_tokens, int32_t n_ctx, F && check) {
    session s(m, context_small(5, n_ctx));
    for (uint32_t first = 1; first <= n_seeds; first += 5) {
        std::vector<std::pair<uint32_t, seq_handle>> running;
        for (uint32_t seed = first; seed < first + 5 && seed <= n_seeds; ++seed) {
            sequence_params sp;
            sp.sampling.seed        = seed;
            sp.sampling.temperature = 1.0f;
            sp.max_tokens           = max_tokens;
            running.emplace_back(seed, s.sequence_add(prompt, {}, sp));
        }
        while (s.has_work()) s.step();
        for (auto [seed, h] : running) {
            const std::string   text   = s.sequence(h).text;
            const finish_reason reason = s.sequence(h).reason;
            s.sequence_release(h);
            check(seed, text, reason);
        }
    }
}

}  // namespace muse::test
