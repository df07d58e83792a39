// Every batch shape the kernels meet gives what the plain shape gives: one sequence's prompt
// decoded in one batch of 1 to 64 rows against the same prompt decoded a token at a time, and
// 1 to 64 sequences decoding together against each one alone. A matmul kernel that breaks for
// some shape (ggml-cpu picks its AMX tile path, its repacked 4x8/8x8 paths and its vector path
// by the number of rows) is caught here: the AMX tile configuration bug of the pinned tree
// (scripts/llama-cpp-patches/0001) killed every run of more than one row on Sapphire Rapids.
// Both sides are greedy; where the reference's best two tokens lie within a near tie, either
// may come first (test-util.h, expect_greedy_equals_alone), and the comparison of that
// sequence ends there. The first token's log-probabilities of the two prompt shapes differed by
// at most 1.9e-3 on the tiny models (AMD EPYC, AVX-512); the test allows 0.05.
#include "test-util.h"

#include <algorithm>

using namespace muse;
using namespace muse::test;

namespace {

class batch_shapes : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override { mdl = model_open(test_backend(), GetParam()); }
    std::unique_ptr<model> mdl;
};

constexpr float near_tie = 0.01f;  // log-probability, as in expect_greedy_equals_alone

// Greedy steps with the five likeliest tokens of each.
std::vector<greedy_step> greedy_steps(session & s, seq_handle h) {
    std::vector<greedy_step> steps;
    s.run(h, [&](const token_event & ev) { steps.push_back({ ev.token, ev.top_logprobs }); });
    return steps;
}

// `got` follows `want` token for token, up to a near tie in `want`'s ranking (after which the
// two may part). Returns a description of the first real difference, or "".
std::string greedy_difference(const std::vector<int32_t> & got, const std::vector<greedy_step> & want) {
    for (size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
        if (i >= got.size() || i >= want.size()) {
            return "lengths " + std::to_string(got.size()) + " and " + std::to_string(want.size());
        }
        if (got[i] == want[i].token) continue;
        float lp = -INFINITY;
        for (const auto & [t, l] : want[i].top) {
            if (t == got[i]) lp = l;
        }
        const float best = want[i].top.empty() ? 0.0f : want[i].top.front().second;
        if (best - lp <= near_tie) return "";
        return "token " + std::to_string(i) + " is " + std::to_string(got[i]) + " where the reference has " +
               std::to_string(want[i].token) + " (log-probability " + std::to_string(lp) + " against " +
               std::to_string(best) + ")";
    }
    return "";
}

sequence_params greedy_ranked(int32_t max_tokens) {
    auto sp         = greedy(max_tokens);
    sp.top_logprobs = 5;
    return sp;
}

}  // namespace

// A prompt of n tokens in one batch (n rows through every matmul) against the same prompt a
// token at a time (one row each), for n = 1..64.
TEST_P(batch_shapes, prompt_of_1_to_64_rows_equals_it_a_token_at_a_time) {
    const std::vector<int32_t> text = mdl->tokenize(
        "The history of the printing press begins in the fifteenth century, when movable type made books cheap "
        "enough for merchants, students and clerks; within fifty years presses worked in more than two hundred "
        "towns across Europe, and the number of books in circulation grew from thousands to millions. Printers "
        "set type by hand, letter by letter, pulled each sheet on a wooden press, and sold the books at fairs.");
    ASSERT_GE(text.size(), 64u);
    auto one_batch = context_small(1, 512);
    one_batch.n_batch = 64;
    auto by_token  = context_small(1, 512);
    by_token.n_batch = 1;
    session wide(*mdl, one_batch);
    session narrow(*mdl, by_token);
    double  largest = 0;
    for (size_t n = 1; n <= 64; ++n) {
        const std::vector<int32_t> prompt(text.begin(), text.begin() + (std::ptrdiff_t) n);
        const auto                 want = greedy_steps(narrow, narrow.sequence_add_tokens(prompt, greedy_ranked(4)));
        const auto                 h    = wide.sequence_add_tokens(prompt, greedy_ranked(4));
        const auto                 got  = greedy_steps(wide, h);
        std::vector<int32_t>       got_tokens;
        for (const auto & g : got) got_tokens.push_back(g.token);
        const std::string diff = greedy_difference(got_tokens, want);
        EXPECT_EQ(diff, "") << "a prompt of " << n << " tokens in one batch";
        // The first token's distribution, not only its winner: a wrong kernel moves all of it.
        ASSERT_FALSE(got.empty());
        ASSERT_FALSE(want.empty());
        for (const auto & [t, lp] : want[0].top) {
            for (const auto & [t2, lp2] : got[0].top) {
                if (t2 != t) continue;
                EXPECT_NEAR(lp2, lp, 0.05) << "token " << t << " after a prompt of " << n << " tokens";
                largest = std::max(largest, (double) std::fabs(lp2 - lp));
            }
        }
    }
    printf("largest first-token log-probability difference, one batch against a token at a time: %.2e\n", largest);
}

// n sequences decoding together (n rows of one token each) against each alone, n = 1..64.
TEST_P(batch_shapes, decode_of_1_to_64_sequences_equals_each_alone) {
    constexpr int32_t n_max = 64, n_gen = 4;
    std::vector<std::vector<int32_t>> prompts;
    for (int i = 0; i < n_max; ++i) {
        prompts.push_back(mdl->tokenize("Item " + std::to_string(i * 7919 % 1000) + ": write one line about it."));
    }
    std::vector<std::vector<greedy_step>> alone;
    {
        session s(*mdl, context_small(1, 256));
        for (const auto & p : prompts) alone.push_back(greedy_steps(s, s.sequence_add_tokens(p, greedy_ranked(n_gen))));
    }
    auto cp      = context_small(n_max, n_max * 64);
    cp.n_batch   = 512;
    session batched(*mdl, cp);
    for (int32_t n = 1; n <= n_max; ++n) {
        std::vector<seq_handle> hs;
        for (int32_t i = 0; i < n; ++i) hs.push_back(batched.sequence_add_tokens(prompts[(size_t) i], greedy(n_gen)));
        while (batched.has_work()) batched.step();
        for (int32_t i = 0; i < n; ++i) {
            const std::string diff = greedy_difference(batched.sequence(hs[(size_t) i]).tokens, alone[(size_t) i]);
            EXPECT_EQ(diff, "") << "sequence " << i << " of " << n << " decoding together";
            batched.sequence_release(hs[(size_t) i]);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(tiny, batch_shapes, ::testing::ValuesIn(tiny_models()), model_param_name);

// A context smaller than llama.cpp's step of 256 cells: it is raised, and the batch follows it
// (llama.cpp sized its batch from the number asked for, and a longer prompt chunk was an abort
// in llama_decode: `muse run -c 8`).
TEST(context_size, small_contexts_are_raised_to_a_step_and_take_a_long_prompt) {
    auto mdl = model_open(test_backend(), "qwen3-tiny.gguf");
    EXPECT_EQ(context_size_padded(8, 1, true), 256);
    EXPECT_EQ(context_size_padded(300, 1, true), 512);
    EXPECT_EQ(context_size_padded(1000, 4, false), 1024);  // 250 per stream -> 256 each
    EXPECT_EQ(context_size_padded(4096, 4, false), 4096);
    for (int32_t n_ctx : { 1, 8, 64, 255 }) {
        auto cp    = context_small(1, n_ctx);
        cp.n_batch = 512;
        session s(*mdl, cp);
        EXPECT_EQ(s.n_ctx(), 256) << "asked for " << n_ctx;
        std::string text;
        for (int i = 0; i < 40; ++i) text += "word ";
        const auto prompt = mdl->tokenize(text);
        ASSERT_GT(prompt.size(), 32u);
        const auto h = s.sequence_add_tokens(prompt, greedy(4));
        run_to_end(s, h);
        EXPECT_EQ(s.sequence(h).n_prompt, (int32_t) prompt.size());
        EXPECT_EQ(s.sequence(h).n_generated, 4);
    }
}
