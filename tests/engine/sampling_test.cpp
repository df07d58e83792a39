// The greedy shortcut: when sampling is plain greedy, the engine picks the argmax itself instead
// of running llama-common's chain over the whole vocabulary. It must pick the chain's token.
#include "engine/sampler.h"
#include "test-util.h"

#include <cmath>
#include <random>

using namespace muse;
using namespace muse::test;

namespace {

// The token llama-common's chain selects from `logits` (a copy: the chain writes to it).
int32_t chain_pick(common_sampler * s, const std::vector<float> & logits) {
    std::vector<llama_token_data> cur(logits.size());
    for (size_t i = 0; i < logits.size(); ++i) cur[i] = { (llama_token) i, logits[i], 0.0f };
    llama_token_data_array arr = { cur.data(), cur.size(), -1, false };
    llama_sampler_apply(common_sampler_get(s), &arr);
    return cur[(size_t) arr.selected].id;
}

class greedy_shortcut : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(greedy_shortcut, is_on_only_for_plain_greedy) {
    auto m  = model_open(test_backend(), GetParam());
    auto on = [&](const sampling_params & sp) {
        greedy_argmax g;
        sampler_make(m->get(), sp, nullptr, nullptr, &g);
        return g.on;
    };
    sampling_params sp;
    sp.temperature = 0.0f;
    EXPECT_TRUE(on(sp));
    sp.top_k = 0;  // what the OpenAI routes send: no effect on the argmax
    sp.top_p = 0.5f;
    EXPECT_TRUE(on(sp));
    auto hot = sp;
    hot.temperature = 0.7f;
    EXPECT_FALSE(on(hot));
    auto penalised = sp;
    penalised.repeat_penalty = 1.1f;
    EXPECT_FALSE(on(penalised));
    auto present = sp;
    present.presence_penalty = 0.5f;
    EXPECT_FALSE(on(present));
}

// Random logits, masked end-of-generation tokens, exact ties: the shortcut's token is the chain's.
TEST_P(greedy_shortcut, picks_the_token_of_llama_commons_chain) {
    auto          m       = model_open(test_backend(), GetParam());
    const int32_t n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(m->get()));
    std::mt19937  rng(42);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    int checked = 0;
    for (bool ignore_eos : { false, true }) {
        for (int32_t top_k : { 0, 40 }) {
            // top_k 0 with top_p 1 and min_p 0 is what the API routes send unless told otherwise:
            // nothing sorts the candidates, so ties keep vocabulary order. The CLI's defaults
            // (top_k 40, top_p 0.95, min_p 0.05) sort them: either of two equal logits is greedy
            // there, so those trials have no ties.
            sampling_params sp;
            sp.temperature = 0.0f;
            sp.top_k       = top_k;
            sp.top_p       = top_k == 0 ? 1.0f : 0.95f;
            sp.min_p       = top_k == 0 ? 0.0f : 0.05f;
            sp.ignore_eos  = ignore_eos;
            greedy_argmax g;
            auto          chain = sampler_make(m->get(), sp, nullptr, nullptr, &g);
            ASSERT_TRUE(g.on);
            EXPECT_EQ(!g.masked.empty(), ignore_eos);
            for (int trial = 0; trial < 50; ++trial) {
                std::vector<float> logits((size_t) n_vocab);
                for (auto & l : logits) l = normal(rng);
                if (ignore_eos) {
                    // The largest logit on an end-of-generation token: masked, the next one wins.
                    logits[(size_t) g.masked[(size_t) trial % g.masked.size()]] = 100.0f;
                }
                if (top_k == 0 && trial % 2 == 0) {
                    // Two tokens share the top logit: the first one in vocabulary order wins.
                    const size_t a = (size_t) trial % (size_t) n_vocab, b = (a + 7) % (size_t) n_vocab;
                    logits[a] = logits[b] = 50.0f;
                    for (int32_t t : g.masked) logits[(size_t) t] = std::min(logits[(size_t) t], 0.0f);
                }
                const int32_t expected = chain_pick(chain.get(), logits);
                std::vector<float> work = logits;
                EXPECT_EQ(g.pick(work.data(), n_vocab), expected) << "trial " << trial << " top_k " << top_k;
                ++checked;
            }
        }
    }
    EXPECT_EQ(checked, 200);
}

// End to end: the shortcut's generation equals the chain's (a penalty that cannot act, last_n 0,
// sends the same greedy request through the chain).
TEST_P(greedy_shortcut, generates_what_the_chain_generates) {
    auto m = model_open(test_backend(), GetParam());
    auto p = user_prompt(*m, "List three colours.");
    for (bool ignore_eos : { false, true }) {
        auto fast = greedy(32);
        fast.sampling.ignore_eos = ignore_eos;
        auto slow                   = fast;
        slow.sampling.repeat_penalty = 1.1f;
        slow.sampling.repeat_last_n  = 0;
        session s(*m, context_small());
        const auto a = run_to_end(s, s.sequence_add(p, {}, fast)).first;
        const auto b = run_to_end(s, s.sequence_add(p, {}, slow)).first;
        EXPECT_EQ(a, b);
        EXPECT_FALSE(a.empty());
    }
}

INSTANTIATE_TEST_SUITE_P(tiny, greedy_shortcut, ::testing::ValuesIn(tiny_models()), model_param_name);
