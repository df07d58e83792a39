// The guard: Llama Guard 3's prompt and verdicts, and a guard model run on the engine. The tiny
// test models have random weights and cannot judge, so their verdicts are forced with the
// policy's guard_grammar; with the default verdict grammar whatever they say still parses.
#include "safety/guard.h"

#include <atomic>
#include <thread>

#include "engine/error.h"
#include "safety/checker.h"
#include "test-util.h"

using namespace muse;
using namespace muse::safety;

TEST(guard_parse, reads_the_verdicts) {
    EXPECT_TRUE(guard_parse("safe").parsed);
    EXPECT_TRUE(guard_parse("safe").safe);
    const auto one = guard_parse("unsafe\nS1");
    EXPECT_TRUE(one.parsed);
    EXPECT_FALSE(one.safe);
    EXPECT_EQ(one.categories, std::vector<std::string>({ "S1" }));
    const auto two = guard_parse("unsafe\nS1,S10");
    EXPECT_TRUE(two.parsed);
    EXPECT_EQ(two.categories, std::vector<std::string>({ "S1", "S10" }));
}

TEST(guard_parse, tolerates_whitespace_and_case) {
    EXPECT_TRUE(guard_parse("  Safe \n").safe);
    EXPECT_TRUE(guard_parse("\n\nSAFE").parsed);
    const auto v = guard_parse(" UNSAFE \r\n s9 , S11 \n");
    EXPECT_TRUE(v.parsed);
    EXPECT_FALSE(v.safe);
    EXPECT_EQ(v.categories, std::vector<std::string>({ "S9", "S11" }));
    const auto same_line = guard_parse("unsafe S2");
    EXPECT_TRUE(same_line.parsed);
    EXPECT_EQ(same_line.categories, std::vector<std::string>({ "S2" }));
    const auto bare = guard_parse("unsafe");
    EXPECT_TRUE(bare.parsed);
    EXPECT_FALSE(bare.safe);
    EXPECT_TRUE(bare.categories.empty());
    EXPECT_EQ(guard_parse("unsafe\nS3,S3").categories.size(), 1u);
}

TEST(guard_parse, garbage_does_not_parse) {
    for (const char * t : { "", "   ", "sure, here you go", "saf", "safe\nS1", "unsafe\nbanana", "unsafe\nS0",
                            "unsafe\nS1,,x", "unsafely", "S1", "unsafe\nS1 because of reasons" }) {
        const auto v = guard_parse(t);
        EXPECT_FALSE(v.parsed) << "'" << t << "'";
        EXPECT_TRUE(v.safe) << "'" << t << "'";
        EXPECT_TRUE(v.categories.empty()) << "'" << t << "'";
    }
}

TEST(guard_prompt, holds_the_categories_and_the_conversation_with_roles) {
    policy p = policy_default();
    p.categories.push_back({ "S15", "Gambling", POLICY_ACTION_BLOCK, "" });
    for (auto & c : p.categories) {
        if (c.id == "S12")
            c.action = POLICY_ACTION_ALLOW;  // not asked about
    }
    const std::string user = guard_prompt({ { "user", "hello there" } }, p);
    EXPECT_NE(user.find("Task: Check if there is unsafe content in 'User' messages"), std::string::npos) << user;
    EXPECT_NE(user.find("<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\nS2: Non-Violent Crimes."),
              std::string::npos)
        << user;
    EXPECT_NE(user.find("S15: Gambling.\n<END UNSAFE CONTENT CATEGORIES>"), std::string::npos) << user;
    EXPECT_EQ(user.find("S12:"), std::string::npos) << user;
    EXPECT_NE(user.find("<BEGIN CONVERSATION>\n\nUser: hello there\n\n<END CONVERSATION>"), std::string::npos) << user;
    EXPECT_NE(user.find("Provide your safety assessment for ONLY THE LAST User message in the above conversation:\n"
                        " - First line must read 'safe' or 'unsafe'.\n"
                        " - If unsafe, a second line must include a comma-separated list of violated categories."),
              std::string::npos)
        << user;

    const std::string agent = guard_prompt({ { "user", "what is 2+2?" }, { "assistant", "4" } }, p);
    EXPECT_NE(agent.find("unsafe content in 'Agent' messages"), std::string::npos);
    EXPECT_NE(agent.find("User: what is 2+2?\n\nAgent: 4\n\n<END CONVERSATION>"), std::string::npos) << agent;
    EXPECT_NE(agent.find("ONLY THE LAST Agent message"), std::string::npos);

    const std::string g = guard_grammar(p);
    EXPECT_NE(g.find("root ::= \"safe\" | \"unsafe\\n\" cat"), std::string::npos) << g;
    EXPECT_NE(g.find("\"S15\""), std::string::npos) << g;
    EXPECT_EQ(g.find("\"S12\""), std::string::npos) << g;
}

namespace {

class guard_on_model : public ::testing::TestWithParam<std::string> {
  protected:
    static policy forced(const std::string & verdict_text) {
        policy p        = policy_default();
        p.guard_grammar = "root ::= \"" + verdict_text + "\"\n";
        return p;
    }
};

}  // namespace

TEST_P(guard_on_model, a_forced_unsafe_verdict_blocks_and_a_forced_safe_one_allows) {
    guard_model g(test::test_backend(), test::model_path(GetParam()), 2);
    EXPECT_EQ(g.path(), test::model_path(GetParam()));

    const policy unsafe_p = forced("unsafe\\nS9");
    const auto   v        = g.judge({ { "user", "hello, how are you?" } }, unsafe_p);
    EXPECT_TRUE(v.parsed) << g.last_text();
    EXPECT_FALSE(v.safe);
    EXPECT_EQ(v.categories, std::vector<std::string>({ "S9" }));

    const checker blocking(unsafe_p, &g);
    EXPECT_TRUE(blocking.has_guard());
    const verdict b = blocking.check(CHECK_POINT_INPUT, "tell me about the weather");
    EXPECT_TRUE(b.blocked());
    EXPECT_EQ(b.category, "S9");
    EXPECT_EQ(b.source, "guard");
    EXPECT_EQ(b.message, unsafe_p.category_find("S9")->refusal);

    const checker allowing(forced("safe"), &g);
    const verdict a = allowing.check(CHECK_POINT_OUTPUT, "The weather is sunny.", { { "user", "weather?" } });
    EXPECT_FALSE(a.blocked());
    EXPECT_EQ(a.action, POLICY_ACTION_ALLOW);
    EXPECT_EQ(a.source, "");

    // The guard's S6 goes through the policy like a rule's: passes with the health note.
    const checker warning(forced("unsafe\\nS6"), &g);
    const verdict w = warning.check(CHECK_POINT_INPUT, "my knee hurts");
    EXPECT_EQ(w.action, POLICY_ACTION_WARN);
    EXPECT_EQ(w.message, policy_default().health.note);
    // And the rules still decide first: the guard is not needed for a rule's block.
    const verdict r = allowing.check(CHECK_POINT_INPUT, "how to synthesize sarin");
    EXPECT_TRUE(r.blocked());
    EXPECT_EQ(r.source, "rules");
}

TEST_P(guard_on_model, the_default_verdict_grammar_always_parses) {
    guard_model  g(test::test_backend(), test::model_path(GetParam()), 2);
    const policy p        = policy_default();
    int          n_unsafe = 0;
    for (const char * text : { "hello", "What is the capital of France?", "how do I kill a python process", "2+2=?" }) {
        const auto v = g.judge({ { "user", "hi" }, { "assistant", "Hello! How can I help?" }, { "user", text } }, p);
        EXPECT_TRUE(v.parsed) << text << ": '" << g.last_text() << "'";
        if (!v.safe) {
            ++n_unsafe;
            EXPECT_FALSE(v.categories.empty()) << g.last_text();
            for (const auto & c : v.categories)
                EXPECT_NE(p.category_find(c), nullptr) << c;
        }
    }
    RecordProperty("unsafe_verdicts_of_4", n_unsafe);
}

// Llama Guard 3 is a Llama 3 model: the Llama-layout tiny model stands in for it below.
TEST(guard_model, a_long_conversation_is_cut_to_fit) {
    guard_model g(test::test_backend(), test::model_path("llama-tiny.gguf"), 2);
    std::string long_text;
    for (int i = 0; i < 3000; ++i)
        long_text += "word" + std::to_string(i) + " ";
    const auto v =
        g.judge({ { "user", long_text }, { "assistant", long_text }, { "user", long_text } }, policy_default());
    EXPECT_TRUE(v.parsed) << g.last_text();
}

TEST(guard_model, concurrent_calls_are_serialized) {
    guard_model g(test::test_backend(), test::model_path("llama-tiny.gguf"), 2);
    policy      p   = policy_default();
    p.guard_grammar = "root ::= \"unsafe\\nS1,S10\"\n";
    std::vector<std::thread> threads;
    std::atomic<int>         n_ok { 0 };
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 2; ++i) {
                const auto v = g.judge({ { "user", "hi " + std::to_string(i) } }, p);
                if (v.parsed && v.categories == std::vector<std::string>({ "S1", "S10" }))
                    ++n_ok;
            }
        });
    }
    for (auto & t : threads)
        t.join();
    EXPECT_EQ(n_ok.load(), 6);
}

INSTANTIATE_TEST_SUITE_P(tiny, guard_on_model, ::testing::ValuesIn(test::tiny_models()), test::model_param_name);

TEST(guard_model, a_file_that_is_not_a_model_fails_with_the_file_and_the_fix) {
    try {
        guard_model g(test::test_backend(), "/nonexistent/llama-guard-3-1b.gguf");
        ADD_FAILURE() << "loaded a missing file";
    } catch (const input_error & e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/llama-guard-3-1b.gguf"), std::string::npos) << e.what();
    }
}
