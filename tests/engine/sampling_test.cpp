// The sampling shortcuts: when sampling is plain greedy the engine picks the argmax itself, and
// when the chain's first step that acts is top-k it hands the chain only the k most likely
// tokens, instead of running llama-common's chain over the whole vocabulary. Either must pick
// the chain's token.
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

class sampling_shortcuts : public ::testing::TestWithParam<std::string> {};

using kind = sampling_shortcut::kind;

}  // namespace

TEST_P(sampling_shortcuts, are_taken_only_where_the_chain_comes_down_to_them) {
    auto m   = model_open(test_backend(), GetParam());
    auto how = [&](const sampling_params & sp) {
        sampling_shortcut sc;
        sampler_make(m->get(), sp, nullptr, nullptr, &sc);
        return sc.how;
    };
    sampling_params sp;
    sp.temperature = 0.0f;
    EXPECT_EQ(how(sp), kind::argmax);
    sp.top_k = 0;  // what the OpenAI routes send: no effect on the argmax
    sp.top_p = 0.5f;
    EXPECT_EQ(how(sp), kind::argmax);
    auto hot = sp;
    hot.temperature = 0.7f;
    EXPECT_EQ(how(hot), kind::chain);  // no top-k: top-p needs the whole distribution
    hot.top_k = 40;
    EXPECT_EQ(how(hot), kind::top_k);
    auto wide  = hot;
    wide.top_k = 5000;
    EXPECT_EQ(how(wide), kind::chain);
    for (auto * sampled : { &sp, &hot }) {
        auto penalised           = *sampled;
        penalised.repeat_penalty = 1.1f;
        EXPECT_EQ(how(penalised), kind::chain);
        auto present             = *sampled;
        present.presence_penalty = 0.5f;
        EXPECT_EQ(how(present), kind::chain);
        auto frequent              = *sampled;
        frequent.frequency_penalty = 0.5f;
        EXPECT_EQ(how(frequent), kind::chain);
    }
}

// Random logits, masked end-of-generation tokens, exact ties: the shortcut's token is the chain's.
TEST_P(sampling_shortcuts, argmax_picks_the_token_of_llama_commons_chain) {
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
            sampling_shortcut g;
            auto              chain = sampler_make(m->get(), sp, nullptr, nullptr, &g);
            ASSERT_EQ(g.how, kind::argmax);
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
                EXPECT_EQ(g.argmax(work.data(), n_vocab), expected) << "trial " << trial << " top_k " << top_k;
                ++checked;
            }
        }
    }
    EXPECT_EQ(checked, 200);
}

// Two chains of one seed, one given the whole vocabulary and one the shortcut's top k: the same
// token every time, at several temperatures, top-p and min-p, with masked tokens on top.
TEST_P(sampling_shortcuts, top_k_samples_the_token_of_llama_commons_chain) {
    auto          m       = model_open(test_backend(), GetParam());
    const int32_t n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(m->get()));
    std::mt19937  rng(7);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    int checked = 0, differ_from_argmax = 0;
    for (bool ignore_eos : { false, true }) {
        for (float temperature : { 0.3f, 0.8f, 1.5f }) {
            sampling_params sp;
            sp.seed        = 1234;
            sp.temperature = temperature;
            sp.top_k       = temperature < 1.0f ? 40 : 128;
            sp.top_p       = temperature < 1.0f ? 0.95f : 1.0f;
            sp.min_p       = temperature < 1.0f ? 0.05f : 0.0f;
            sp.ignore_eos  = ignore_eos;
            sampling_shortcut sc;
            auto              fast  = sampler_make(m->get(), sp, nullptr, nullptr, &sc);
            auto              whole = sampler_make(m->get(), sp, nullptr, nullptr);
            ASSERT_EQ(sc.how, kind::top_k);
            EXPECT_EQ(sc.top_k, sp.top_k);
            EXPECT_EQ(!sc.masked.empty(), ignore_eos);
            for (int trial = 0; trial < 40; ++trial) {
                std::vector<float> logits((size_t) n_vocab);
                for (auto & l : logits) l = normal(rng);
                if (ignore_eos) {
                    // An end-of-generation token is the most likely: masked, it is never sampled.
                    logits[(size_t) sc.masked[(size_t) trial % sc.masked.size()]] = 30.0f;
                }
                const int32_t expected = chain_pick(whole.get(), logits);
                std::vector<float> work = logits;
                // Every other trial hands over the ranking taken before the masks: reused when
                // they left it alone, taken anew when they masked one of its tokens.
                const ranked_logits before = top_logits(logits.data(), n_vocab, sc.top_k + 5);
                const int32_t got = sc.sample_top_k(fast.get(), work.data(), n_vocab, trial % 2 ? &before : nullptr);
                EXPECT_EQ(got, expected) << "trial " << trial << " temperature " << temperature;
                differ_from_argmax += got != sampling_shortcut{}.argmax(work.data(), n_vocab);
                common_sampler_accept(fast.get(), got, true);
                common_sampler_accept(whole.get(), expected, true);
                ++checked;
            }
        }
    }
    EXPECT_EQ(checked, 240);
    EXPECT_GT(differ_from_argmax, 24);  // it samples: not just the most likely token
}

// End to end: a shortcut's generation equals the chain's (a penalty that cannot act, last_n 0,
// sends the same request through the chain), greedy and sampled under one seed.
TEST_P(sampling_shortcuts, generate_what_the_chain_generates) {
    auto m = model_open(test_backend(), GetParam());
    auto p = user_prompt(*m, "List three colours.");
    const std::pair<bool, float> cases[] = { { false, 0.0f }, { true, 0.0f }, { false, 0.9f }, { true, 0.9f } };
    for (const auto & [ignore_eos, temperature] : cases) {
        auto fast                   = greedy(32);
        fast.sampling.ignore_eos    = ignore_eos;
        fast.sampling.temperature   = temperature;
        fast.sampling.seed          = 99;
        fast.confidence_top_k       = 20;  // the shortcut then reuses the confidence ranking
        auto slow                   = fast;
        slow.sampling.repeat_penalty = 1.1f;
        slow.sampling.repeat_last_n  = 0;
        session s(*m, context_small());
        const auto a = run_to_end(s, s.sequence_add(p, {}, fast)).first;
        const auto b = run_to_end(s, s.sequence_add(p, {}, slow)).first;
        EXPECT_EQ(a, b) << "ignore_eos " << ignore_eos << " temperature " << temperature;
        EXPECT_FALSE(a.empty());
    }
}

INSTANTIATE_TEST_SUITE_P(tiny, sampling_shortcuts, ::testing::ValuesIn(tiny_models()), model_param_name);
