// A conversation's turns through the prompt cache (muse chat): each turn decodes only what it
// adds to the last one's prompt and generates what its whole prompt generates alone.
#include "engine/error.h"
#include "llama.h"
#include "reason/prompt-cache.h"
#include "test-util.h"

using namespace muse;
using namespace muse::reason;
using namespace muse::test;

namespace {

class prompt_cache_turns : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override { mdl = model_open(test_backend(), GetParam()); }
    std::unique_ptr<model> mdl;
};

struct turn {
    std::vector<int32_t> tokens;
    std::string          text;
    sequence_stats       stats;
};

turn turn_take(session & s, prompt_cache & cache, const chat_prompt & p) {
    const auto h = cache.sequence_add(p, {}, greedy(12));
    s.prefill(h);
    cache.keep(h);
    turn t;
    t.text   = run_to_end(s, h).second;
    t.tokens = s.sequence(h).tokens;
    t.stats  = s.sequence(h);
    s.sequence_release(h);
    return t;
}

}  // namespace

TEST_P(prompt_cache_turns, each_turn_decodes_only_what_it_adds) {
    session      s(*mdl, context_small(2));
    prompt_cache cache(s);
    auto         req = dated_request();
    std::string  notes = "Here are my notes:";
    for (int i = 0; i < 40; ++i) notes += " item" + std::to_string(i);
    req.messages.push_back({ "user", notes + "\nWhat is the first item?", {}, "", {}, "", "" });
    std::vector<int32_t> n_tokens;
    for (int round = 0; round < 3; ++round) {
        const auto prompt = chat_format(*mdl, req, mdl->media_marker());
        const auto full   = (int32_t) mdl->tokenize(prompt.text()).size();
        const auto t      = turn_take(s, cache, prompt);
        expect_greedy_equals_alone(*mdl, prompt, t.tokens, 12, "turn " + std::to_string(round));
        EXPECT_EQ(t.stats.n_prompt + t.stats.n_shared, full) << "turn " << round;
        if (round == 0) {
            EXPECT_EQ(t.stats.n_shared, 0);
        } else if (llama_model_n_swa(mdl->get()) == 0) {
            EXPECT_GE(t.stats.n_shared, n_tokens.back() - 1) << "turn " << round << " decoded the last prompt again";
        }
        EXPECT_EQ(s.n_live(), 1) << "the kept prompt";
        n_tokens.push_back(full);
        req.messages.push_back({ "assistant", t.text, {}, "", {}, "", "" });
        req.messages.push_back({ "user", "And the next one?", {}, "", {}, "", "" });
    }
    cache.clear();
    EXPECT_EQ(s.n_live(), 0);

    // After a clear, a new conversation starts afresh and is kept again.
    const auto other = user_prompt(*mdl, "Something else entirely.");
    const auto t     = turn_take(s, cache, other);
    EXPECT_EQ(t.stats.n_shared, 0);
    expect_greedy_equals_alone(*mdl, other, t.tokens, 12);
    EXPECT_EQ(s.n_live(), 1);
}

// A turn whose prompt overflows the context is refused and leaves nothing behind: the kept
// prompt stays the only live sequence and the next turn still shares it.
TEST_P(prompt_cache_turns, a_prompt_over_the_context_leaves_the_cache_as_it_was) {
    session      s(*mdl, context_small(2, 512));
    prompt_cache cache(s);
    auto         req = dated_request();
    req.messages.push_back({ "user", "Hello there.", {}, "", {}, "", "" });
    const auto first = chat_format(*mdl, req, mdl->media_marker());
    turn_take(s, cache, first);
    ASSERT_EQ(s.n_live(), 1);

    auto        longer = req;
    std::string text;
    for (int i = 0; i < 400; ++i) text += "word" + std::to_string(i) + " ";
    longer.messages.push_back({ "assistant", "Hi.", {}, "", {}, "", "" });
    longer.messages.push_back({ "user", text, {}, "", {}, "", "" });
    EXPECT_THROW(cache.sequence_add(chat_format(*mdl, longer, mdl->media_marker()), {}, greedy(4)), input_error);
    EXPECT_EQ(s.n_live(), 1) << "the refused turn left a sequence behind";

    auto next = req;
    next.messages.push_back({ "assistant", "Hi.", {}, "", {}, "", "" });
    next.messages.push_back({ "user", "How are you?", {}, "", {}, "", "" });
    const auto t = turn_take(s, cache, chat_format(*mdl, next, mdl->media_marker()));
    if (llama_model_n_swa(mdl->get()) == 0) EXPECT_GT(t.stats.n_shared, 0);
    EXPECT_EQ(s.n_live(), 1);
}

INSTANTIATE_TEST_SUITE_P(tiny, prompt_cache_turns, ::testing::ValuesIn(tiny_models()), model_param_name);
