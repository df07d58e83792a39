// The sequences API: forks share the KV prefix and continue like an unforked run; sequences
// batched together produce what each produces alone (both up to near ties, where a batch's
// last-bit differences may pick the other token: expect_greedy_equals_alone); freed cells are freed.
#include "engine/error.h"
#include "test-util.h"

#include <gtest/gtest-spi.h>

#include <chrono>
#include <map>

using namespace muse;
using namespace muse::test;

namespace {

class sequences : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override { mdl = model_open(test_backend(), GetParam()); }
    std::unique_ptr<model> mdl;
};

}  // namespace

TEST_P(sequences, fork_after_prefill_equals_unforked_run) {
    auto p = user_prompt(*mdl, "Explain photosynthesis briefly.");

    session s(*mdl, context_small());
    EXPECT_EQ(s.decode_seconds(), 0.0);
    const auto t0     = std::chrono::steady_clock::now();
    auto       parent = s.sequence_add(p, {}, greedy(24));
    s.prefill(parent);
    const double prefill_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_GT(s.decode_seconds(), 0.0);
    EXPECT_LE(s.decode_seconds(), prefill_secs);
    const int64_t decoded_before = s.n_decoded();
    const double  decode_before  = s.decode_seconds();
    auto          child          = s.sequence_fork(parent);
    s.sequence_cancel(parent);
    EXPECT_EQ(s.n_decoded(), decoded_before) << "a fork must not recompute the prompt";
    EXPECT_EQ(s.decode_seconds(), decode_before);
    expect_greedy_equals_alone(*mdl, p, run_to_end(s, child).first, 24);
    EXPECT_EQ(s.sequence(child).n_prompt, 0);
    EXPECT_GT(s.sequence(child).n_shared, 0);
}

TEST_P(sequences, fork_mid_generation_continues_identically_in_one_batch) {
    auto p = user_prompt(*mdl, "List some fruits.");

    session s(*mdl, context_small());
    auto    parent = s.sequence_add(p, {}, greedy(24));
    s.prefill(parent);
    for (int i = 0; i < 8; ++i) s.step();
    auto child = s.sequence_fork(parent);
    while (s.has_work()) s.step();  // parent and child advance in the same batches
    expect_greedy_equals_alone(*mdl, p, s.sequence(parent).tokens, 24, "parent");
    expect_greedy_equals_alone(*mdl, p, s.sequence(child).tokens, 24, "child");
}

TEST_P(sequences, n_forks_of_one_prompt_all_equal_the_single_run) {
    auto p = user_prompt(*mdl, "What is two plus two?");

    session s(*mdl, context_small(8));
    auto    root = s.sequence_add(p, {}, greedy(16));
    s.prefill(root);
    const int64_t decoded = s.n_decoded();
    std::vector<seq_handle> kids;
    for (int i = 0; i < 4; ++i) kids.push_back(s.sequence_fork(root));
    while (s.has_work()) s.step();
    expect_greedy_equals_alone(*mdl, p, s.sequence(root).tokens, 16, "root");
    for (auto k : kids) expect_greedy_equals_alone(*mdl, p, s.sequence(k).tokens, 16, "fork");
    // 5 sequences x 16 tokens, minus the last token of each which is never decoded: the prompt once.
    EXPECT_EQ(s.n_decoded() - decoded, 5 * 15);
}

TEST_P(sequences, different_prompts_batched_equal_each_alone) {
    const std::vector<std::string> texts = { "Name a color.", "Describe a cat in detail, please.",
                                             "Why is the sky blue?", "Hi" };
    std::vector<chat_prompt>       prompts;
    for (const auto & t : texts) prompts.push_back(user_prompt(*mdl, t));
    session                 s(*mdl, context_small(4));
    std::vector<seq_handle> hs;
    for (const auto & p : prompts) hs.push_back(s.sequence_add(p, {}, greedy(20)));
    while (s.has_work()) s.step();
    for (size_t i = 0; i < hs.size(); ++i) expect_greedy_equals_alone(*mdl, prompts[i], s.sequence(hs[i]).tokens, 20, texts[i]);
}

// The ready sequences of a step are sampled on all the session's threads: each one's draws stay
// its own. Sampled (top-k shortcut and whole chain), greedy, with and without confidence
// statistics: two threads generate what one thread generates. (Batched against alone is no test
// for sampling: a batch's logits differ in the last bits, which flips a draw now and then.)
TEST_P(sequences, sampling_on_several_threads_equals_one_thread) {
    const auto p = user_prompt(*mdl, "Tell me a story.");
    std::vector<sequence_params> kinds;
    for (uint32_t seed : { 1u, 2u, 3u, 4u, 5u }) {
        auto sp                 = greedy(24);
        sp.sampling.temperature = 1.0f;
        sp.sampling.seed        = seed;
        sp.confidence_top_k     = seed % 2 ? 20 : 0;
        kinds.push_back(sp);
    }
    kinds[2].sampling.repeat_penalty = 1.2f;  // the whole chain, after the threads' part
    kinds.push_back(greedy(24));
    kinds.back().confidence_top_k = 20;
    const auto generate = [&](int32_t n_threads) {
        auto cp      = context_small(8);
        cp.n_threads = n_threads;
        session                 s(*mdl, cp);
        std::vector<seq_handle> hs;
        for (const auto & sp : kinds) hs.push_back(s.sequence_add(p, {}, sp));
        std::vector<std::vector<int32_t>> tokens;
        while (s.has_work()) s.step();
        for (auto h : hs) tokens.push_back(s.sequence(h).tokens);
        return tokens;
    };
    const auto one = generate(1);
    const auto two = generate(2);
    EXPECT_NE(one[0], one[1]);
    for (size_t i = 0; i < kinds.size(); ++i) {
        EXPECT_EQ(two[i], one[i]) << "sequence " << i;
    }
}

TEST_P(sequences, finished_and_cancelled_sequences_free_their_cells) {
    session s(*mdl, context_small(4));
    auto    a = s.sequence_add(user_prompt(*mdl, "one"), {}, greedy(4));
    auto    b = s.sequence_add(user_prompt(*mdl, "two"), {}, greedy(64));
    s.step();
    s.step();
    EXPECT_GE(s.kv_pos_max(b), 0);
    s.sequence_cancel(b);
    EXPECT_EQ(s.kv_pos_max(b), -1);
    EXPECT_EQ(s.sequence(b).reason, FINISH_REASON_CANCELLED);
    while (!s.sequence_finished(a)) s.step();
    EXPECT_EQ(s.kv_pos_max(a), -1);
    EXPECT_EQ(s.n_live(), 0);
    // Freed slots are reusable.
    for (int i = 0; i < 4; ++i) s.sequence_add(user_prompt(*mdl, "again"), {}, greedy(2));
    EXPECT_EQ(s.n_live(), 4);
}

TEST_P(sequences, cancelling_a_parent_keeps_the_childs_prefix) {
    auto    p = user_prompt(*mdl, "Tell me about rivers.");
    session s(*mdl, context_small());
    auto       parent = s.sequence_add(p, {}, greedy(12));
    s.prefill(parent);
    auto child = s.sequence_fork(parent);
    s.sequence_cancel(parent);
    EXPECT_GE(s.kv_pos_max(child), 0);
    expect_greedy_equals_alone(*mdl, p, run_to_end(s, child).first, 12);
}

TEST_P(sequences, slots_are_bounded) {
    session s(*mdl, context_small(2));
    auto    a = s.sequence_add(user_prompt(*mdl, "a"), {}, greedy(4));
    s.sequence_add(user_prompt(*mdl, "b"), {}, greedy(4));
    EXPECT_THROW(s.sequence_add(user_prompt(*mdl, "c"), {}, greedy(4)), std::exception);
    s.prefill(a);
    EXPECT_THROW(s.sequence_fork(a), std::exception);
}

TEST_P(sequences, reseeded_forks_differ_but_are_reproducible) {
    auto p = user_prompt(*mdl, "Invent a word.");
    auto run = [&](uint32_t seed_a, uint32_t seed_b) {
        session s(*mdl, context_small());
        auto    root = s.sequence_add(p, {}, greedy(12));
        s.prefill(root);
        sampling_params sa;
        sa.temperature = 1.0f; sa.top_k = 0; sa.top_p = 1.0f; sa.min_p = 0.0f;
        sa.seed = seed_a;
        auto a  = s.sequence_fork(root, &sa);
        sa.seed = seed_b;
        auto b  = s.sequence_fork(root, &sa);
        s.sequence_cancel(root);
        while (s.has_work()) s.step();
        return std::make_pair(s.sequence(a).tokens, s.sequence(b).tokens);
    };
    auto [a1, b1] = run(11, 12);
    auto [a2, b2] = run(11, 12);
    EXPECT_EQ(a1, a2);
    EXPECT_EQ(b1, b2);
    EXPECT_NE(a1, b1);
}

// A new prompt that starts like a parked one reuses its cells: only the new tail is decoded,
// and the result is what the new prompt gives on its own.
TEST_P(sequences, fork_prefix_of_a_parked_prompt_equals_a_fresh_run) {
    auto       first    = user_prompt(*mdl, "Summarize the plot of Hamlet.");
    chat_request longer = dated_request();
    longer.messages.push_back({ "user", "Summarize the plot of Hamlet.\n\nUse one sentence.", {}, "", {}, "", "" });
    auto       second   = chat_format(*mdl, longer, mdl->media_marker());

    session s(*mdl, context_small());
    auto    root = s.sequence_add(first, {}, greedy(16));
    s.prefill(root);
    s.sequence_park(root);
    EXPECT_FALSE(s.has_work());

    const auto & have = s.sequence_kv_tokens(root);
    const auto   want = mdl->tokenize(second.text());
    size_t       lcp  = 0;
    while (lcp < have.size() && lcp < want.size() && have[lcp] == want[lcp]) lcp++;
    ASSERT_GT(lcp, 4u);
    ASSERT_LT(lcp, want.size());

    const int64_t before = s.n_decoded();
    auto          child  = s.sequence_fork_prefix(root, (int32_t) lcp, greedy(16), &second);
    s.sequence_append_tokens(child, std::vector<int32_t>(want.begin() + (std::ptrdiff_t) lcp, want.end()));
    s.prefill(child);
    EXPECT_EQ(s.n_decoded() - before, (int64_t) (want.size() - lcp)) << "only the new tail is decoded";
    expect_greedy_equals_alone(*mdl, second, run_to_end(s, child).first, 16);
    EXPECT_EQ(s.sequence(child).n_shared, (int32_t) lcp);
}

// The check above passes the lone run itself and fails a run with one token the lone run does
// not rank near its best, or one that stops early.
TEST_P(sequences, a_run_that_differs_from_the_lone_run_is_caught) {
    const auto p     = user_prompt(*mdl, "Name a colour.");
    const auto steps = greedy_alone(*mdl, p, {}, 12);
    ASSERT_GE(steps.size(), 6u);
    std::vector<int32_t> run;
    for (const auto & step : steps) run.push_back(step.token);
    EXPECT_EQ(expect_greedy_equals_alone(*mdl, p, run, 12), 0);

    auto    wrong = run;
    int32_t other = 0;
    const auto ranked = [&](int32_t t) {
        for (const auto & [tok, lp] : steps[5].top) if (tok == t) return true;
        return false;
    };
    while (ranked(other)) other++;
    wrong[5] = other;
    EXPECT_NONFATAL_FAILURE(expect_greedy_equals_alone(*mdl, p, wrong, 12), "where alone it is");
    run.pop_back();
    EXPECT_NONFATAL_FAILURE(expect_greedy_equals_alone(*mdl, p, run, 12), "alone the run goes on");
}

TEST_P(sequences, top_logprobs_are_the_most_likely_tokens_in_order) {
    session s(*mdl, context_small());
    auto    sp      = greedy(8);
    sp.top_logprobs = 5;
    auto h = s.sequence_add(user_prompt(*mdl, "Hello"), {}, sp);
    int  n = 0;
    s.run(h, [&](const token_event & ev) {
        ASSERT_EQ(ev.top_logprobs.size(), 5u);
        EXPECT_EQ(ev.top_logprobs.front().first, ev.token) << "greedy takes the most likely token";
        EXPECT_FLOAT_EQ(ev.top_logprobs.front().second, ev.logprob);
        float total = 0.0f;
        for (size_t i = 0; i < ev.top_logprobs.size(); ++i) {
            EXPECT_LE(ev.top_logprobs[i].second, 0.0f);
            if (i > 0) EXPECT_LE(ev.top_logprobs[i].second, ev.top_logprobs[i - 1].second);
            total += std::exp(ev.top_logprobs[i].second);
        }
        EXPECT_LE(total, 1.0f + 1e-5f);
        n++;
    });
    EXPECT_EQ(n, 8);
    sp.top_logprobs = 21;
    EXPECT_THROW(s.sequence_add(user_prompt(*mdl, "Hello"), {}, sp), input_error);
    sp.top_logprobs = -1;
    EXPECT_THROW(s.sequence_add(user_prompt(*mdl, "Hello"), {}, sp), input_error);
}

TEST_P(sequences, token_confidence_and_logprob_are_reported) {
    session s(*mdl, context_small());
    auto    sp           = greedy(12);
    sp.confidence_top_k  = 20;
    auto    h            = s.sequence_add(user_prompt(*mdl, "Hello"), {}, sp);
    int     n            = 0;
    s.run(h, [&](const token_event & ev) {
        EXPECT_GT(ev.confidence, 0.0f);
        EXPECT_LE(ev.logprob, 0.0f);
        n++;
    });
    EXPECT_EQ(n, 12);
}

// A scheduler shares the session with a reasoning mode's loop: whoever steps, the hooks see
// every step, and a prefill while others wait to sample advances them too.
TEST_P(sequences, step_hooks_see_every_step_and_prefill_shares_the_batch) {
    auto p1 = user_prompt(*mdl, "Name a colour.");
    auto p2 = user_prompt(*mdl, "Name an animal.");

    session s(*mdl, context_small());
    int     befores = 0;
    std::map<seq_handle, std::vector<int32_t>> seen;
    s.set_step_hooks({ [&] { befores++; },
                       [&](const std::vector<token_event> & evs) {
                           for (const auto & ev : evs) seen[ev.seq].push_back(ev.token);
                       } });
    auto a = s.sequence_add(p1, {}, greedy(12));
    s.step();  // a's prompt decoded: it now waits to sample
    ASSERT_TRUE(s.sequence_ready(a));
    auto b = s.sequence_add(p2, {}, greedy(12));
    s.prefill(b);  // a keeps going in the same steps; its tokens reach the hook
    EXPECT_TRUE(s.sequence_ready(b));
    while (s.has_work()) s.step();
    EXPECT_GT(befores, 2);
    expect_greedy_equals_alone(*mdl, p1, seen[a], 12, "a");
    expect_greedy_equals_alone(*mdl, p2, seen[b], 12, "b");
    s.set_step_hooks({});
}

// Benchmarks ask for exactly max_tokens: no end-of-generation token is ever sampled.
TEST_P(sequences, ignore_eos_generates_exactly_max_tokens) {
    session s(*mdl, context_small());
    auto    sp           = greedy(40);
    sp.sampling.ignore_eos = true;
    auto h = s.sequence_add(user_prompt(*mdl, "Say hi."), {}, sp);
    run_to_end(s, h);
    EXPECT_EQ(s.sequence(h).n_generated, 40);
    EXPECT_EQ(s.sequence(h).reason, FINISH_REASON_LENGTH);

    // Under a grammar the end of generation is the grammar's only way out: it stays allowed.
    chat_request req = dated_request();
    req.messages.push_back({ "user", "Is it true?" });
    req.json_schema = R"({"type":"boolean"})";
    auto schema_prompt = chat_format(*mdl, req, mdl->media_marker());
    auto g = s.sequence_add(schema_prompt, {}, sp);
    const auto text    = run_to_end(s, g).second;
    const auto answer  = chat_parse(schema_prompt, text, false).content;
    const auto trimmed = answer.substr(answer.find_first_not_of(" \n"), std::string::npos);
    EXPECT_EQ(s.sequence(g).reason, FINISH_REASON_STOP) << text;
    EXPECT_TRUE(trimmed.rfind("true", 0) == 0 || trimmed.rfind("false", 0) == 0) << "[" << text << "]";
}

INSTANTIATE_TEST_SUITE_P(tiny, sequences, ::testing::ValuesIn(tiny_models()), model_param_name);

// Under a prefill budget a generating sequence sits out while a newcomer's prompt goes in,
// for at most the budget's worth of prompt tokens at a time; without one it gets a token every
// step. Either way its output is what it gives alone.
TEST_P(sequences, prefill_budget_bounds_the_pause_of_running_sequences) {
    auto        p1 = user_prompt(*mdl, "Name a colour.");
    std::string long_text;
    for (int i = 0; i < 80; ++i) long_text += "word" + std::to_string(i) + " ";
    auto       p2       = user_prompt(*mdl, long_text);
    const auto n_long   = (int32_t) mdl->tokenize(p2.text()).size();
    ASSERT_GT(n_long, 150);
    for (int32_t budget : { 0, 96 }) {
        auto cp           = context_small();
        cp.n_batch        = 32;
        cp.prefill_budget = budget;
        session s(*mdl, cp);
        auto    a = s.sequence_add(p1, {}, greedy(40));
        for (int i = 0; i < 3; ++i) s.step();  // a is generating
        auto    b = s.sequence_add(p2, {}, greedy(4));
        int32_t prompt_at_last_token = 0, longest_pause = 0, steps_in_prefill = 0, tokens_in_prefill = 0;
        while (s.sequence(b).n_prompt < n_long) {
            const int32_t before = s.sequence(a).n_generated;
            s.step();
            steps_in_prefill++;
            if (s.sequence(a).n_generated > before) {
                tokens_in_prefill++;
                prompt_at_last_token = s.sequence(b).n_prompt;
            }
            longest_pause = std::max(longest_pause, s.sequence(b).n_prompt - prompt_at_last_token);
        }
        if (budget == 0) {
            EXPECT_GE(tokens_in_prefill, steps_in_prefill - 1) << "a token every step";
        } else {
            EXPECT_LE(longest_pause, budget + cp.n_batch) << "paused past the budget";
            EXPECT_GE(tokens_in_prefill, 1) << "never resumed during the prefill";
            EXPECT_LT(tokens_in_prefill, steps_in_prefill - 1) << "never paused";
        }
        while (s.has_work()) s.step();
        expect_greedy_equals_alone(*mdl, p1, s.sequence(a).tokens, 40, "budget " + std::to_string(budget));
    }
}
