// Generation mechanics on random-weight models: determinism, streaming, limits.
#include "engine/error.h"
#include "test-util.h"

using namespace muse;
using namespace muse::test;

namespace {

class generate : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(generate, greedy_is_identical_across_runs_and_sessions) {
    auto m = model_open(test_backend(), GetParam());
    auto p = user_prompt(*m, "Write a haiku about the sea.");
    std::vector<int32_t> first;
    for (int run = 0; run < 2; ++run) {
        session s(*m, context_small());
        auto [tokens, text] = run_to_end(s, s.sequence_add(p, {}, greedy(24)));
        ASSERT_EQ(tokens.size(), 24u);
        if (run == 0) first = tokens;
        else EXPECT_EQ(tokens, first);
    }
}

TEST_P(generate, seeded_sampling_is_reproducible_and_seed_dependent) {
    auto m = model_open(test_backend(), GetParam());
    auto p = user_prompt(*m, "Tell me a story.");
    auto sample = [&](uint32_t seed) {
        session         s(*m, context_small());
        sequence_params sp;
        sp.sampling.seed        = seed;
        sp.sampling.temperature = 1.0f;
        sp.sampling.top_k       = 0;
        sp.sampling.top_p       = 1.0f;
        sp.sampling.min_p       = 0.0f;
        sp.max_tokens           = 16;
        return run_to_end(s, s.sequence_add(p, {}, sp)).first;
    };
    EXPECT_EQ(sample(7), sample(7));
    EXPECT_NE(sample(7), sample(8));
}

// Streaming is the events' text pieces; non-streaming is the final record. They must match,
// and the record's text must be the detokenized tokens.
TEST_P(generate, streamed_text_equals_final_text) {
    auto    m = model_open(test_backend(), GetParam());
    session s(*m, context_small());
    auto    h = s.sequence_add(user_prompt(*m, "Count to ten."), {}, greedy(40));
    auto [tokens, streamed] = run_to_end(s, h);
    EXPECT_EQ(streamed, s.sequence(h).text);
    EXPECT_FALSE(streamed.empty());
}

TEST_P(generate, max_tokens_is_enforced) {
    auto m = model_open(test_backend(), GetParam());
    for (int32_t n : { 1, 5, 17 }) {
        session s(*m, context_small());
        auto    h = s.sequence_add(user_prompt(*m, "Go on forever."), {}, greedy(n));
        run_to_end(s, h);
        EXPECT_LE(s.sequence(h).n_generated, n);
        if (s.sequence(h).reason == FINISH_REASON_LENGTH) {
            EXPECT_EQ(s.sequence(h).n_generated, n);
        }
    }
}

TEST_P(generate, generation_stops_at_a_full_context) {
    auto    m = model_open(test_backend(), GetParam());
    session s(*m, context_small(1, 256));
    auto    sp = greedy(-1);
    auto    h  = s.sequence_add(user_prompt(*m, "Hello"), {}, sp);
    run_to_end(s, h);
    const auto & st = s.sequence(h);
    EXPECT_TRUE(st.reason == FINISH_REASON_CONTEXT || st.reason == FINISH_REASON_STOP) << finish_reason_name(st.reason);
    EXPECT_LE(st.n_past, 256);
}

TEST_P(generate, stop_strings_end_the_output_before_the_stop) {
    auto m = model_open(test_backend(), GetParam());
    // Generate once, then use a piece of that output as a stop string.
    std::string full;
    {
        session s(*m, context_small());
        full = run_to_end(s, s.sequence_add(user_prompt(*m, "Say something."), {}, greedy(32))).second;
    }
    ASSERT_GE(full.size(), 12u);
    const std::string stop = full.substr(full.size() / 2, 3);
    session           s(*m, context_small());
    auto              sp = greedy(32);
    sp.stop              = { stop };
    auto h               = s.sequence_add(user_prompt(*m, "Say something."), {}, sp);
    auto [tokens, text]  = run_to_end(s, h);
    EXPECT_EQ(s.sequence(h).reason, FINISH_REASON_STOP_STRING);
    EXPECT_EQ(text, full.substr(0, full.find(stop)));
    EXPECT_EQ(text.find(stop), std::string::npos);
}

// Template variables reach the template: the two that state a date state the given one, and
// a value that is not JSON is refused by name.
TEST_P(generate, template_kwargs_reach_the_template) {
    auto       m    = model_open(test_backend(), GetParam());
    const auto text = user_prompt(*m, "Hello").text();
    if (GetParam() == "muse-glimmer-tiny.gguf") EXPECT_NE(text.find("Current date: 2026-01-31."), std::string::npos) << text;
    if (GetParam() == "llama-tiny.gguf") EXPECT_NE(text.find("Today Date: 31 Jan 2026"), std::string::npos) << text;
    auto req = dated_request();
    req.messages.push_back({ "user", "Hello", {}, "", {}, "", "" });
    req.template_kwargs["current_date"] = "2026-01-31";
    try {
        chat_format(*m, req, m->media_marker());
        ADD_FAILURE() << "an unquoted date was taken";
    } catch (const input_error & e) {
        EXPECT_NE(std::string(e.what()).find("current_date"), std::string::npos) << e.what();
    }
}

INSTANTIATE_TEST_SUITE_P(tiny, generate, ::testing::ValuesIn(tiny_models()), model_param_name);
