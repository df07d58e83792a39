// Bad input inside the engine: a clear input_error, nothing left allocated, never a crash.
// Built into muse-robustness-tests, which the sanitizer build runs too.
#include "engine/error.h"
#include "test-util.h"

using namespace muse;
using namespace muse::test;

namespace {
class bad_input : public ::testing::TestWithParam<std::string> {};
}  // namespace

TEST_P(bad_input, prompt_longer_than_context_is_refused) {
    auto        m = model_open(test_backend(), GetParam());
    session     s(*m, context_small(2, 256));
    std::string longtext;
    for (int i = 0; i < 300; ++i) longtext += "word" + std::to_string(i) + " ";
    try {
        s.sequence_add(user_prompt(*m, longtext), {}, greedy(8));
        FAIL() << "a prompt over the context was accepted";
    } catch (const input_error & e) {
        EXPECT_NE(std::string(e.what()).find("context"), std::string::npos) << e.what();
    }
    EXPECT_EQ(s.n_live(), 0);
}

TEST_P(bad_input, bad_sampling_values_are_refused) {
    auto    m = model_open(test_backend(), GetParam());
    session s(*m, context_small());
    auto    sp           = greedy(4);
    sp.sampling.top_p    = 1.5f;
    EXPECT_THROW(s.sequence_add(user_prompt(*m, "x"), {}, sp), input_error);
    sp                   = greedy(4);
    sp.sampling.temperature = -1.0f;
    EXPECT_THROW(s.sequence_add(user_prompt(*m, "x"), {}, sp), input_error);
    EXPECT_THROW(s.sequence_add_tokens({ 1, 2, 1 << 30 }, greedy(4)), input_error);
    EXPECT_EQ(s.n_live(), 0);
}

TEST_P(bad_input, broken_schema_and_grammar_are_refused) {
    auto m = model_open(test_backend(), GetParam());
    chat_request req;
    req.messages.push_back({ "user", "x", {}, "", {}, "", "" });
    req.json_schema = "{ not json";
    EXPECT_THROW(chat_format(*m, req, m->media_marker()), input_error);
    req.json_schema = "";
    req.grammar     = "root ::= (";
    auto prompt     = chat_format(*m, req, m->media_marker());
    session s(*m, context_small());
    EXPECT_THROW(s.sequence_add(prompt, {}, greedy(4)), input_error);
    EXPECT_EQ(s.n_live(), 0);
}

INSTANTIATE_TEST_SUITE_P(tiny, bad_input, ::testing::ValuesIn(tiny_models()), model_param_name);
