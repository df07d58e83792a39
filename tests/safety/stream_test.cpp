// Streaming checks: the answer so far is checked again every stream_check_chars new characters,
// so a phrase split across many small deltas is caught at the next check point.
#include <gtest/gtest.h>

#include "safety/checker.h"

using namespace muse::safety;

namespace {

policy every(size_t n) {
    policy p             = policy_default();
    p.stream_check_chars = n;
    return p;
}

}  // namespace

TEST(stream_checker, a_phrase_split_into_one_character_deltas_is_caught_at_the_next_check) {
    const checker     chk(every(16));
    stream_checker    s(chk, { { "user", "tell me something" } });
    const std::string answer =
        "Here is a fun fact about chemistry. Now: how to synthesize sarin, first you take the "
        "precursors and then you continue for a long while with more words after it.";
    const size_t end        = answer.find("sarin") + 5;
    size_t       stopped_at = 0;
    for (size_t i = 0; i < answer.size(); ++i) {
        const verdict v = s.push(answer.substr(i, 1));
        if (v.blocked()) {
            stopped_at = i + 1;
            EXPECT_EQ(v.category, "S9");
            EXPECT_EQ(v.message, chk.policy_of().category_find("S9")->refusal);
            break;
        }
    }
    ASSERT_GT(stopped_at, 0u) << "the stream was never stopped";
    EXPECT_GE(stopped_at, end);
    EXPECT_LT(stopped_at, end + 16) << "caught only at " << stopped_at << ", the phrase ended at " << end;
    // Once stopped it stays stopped, and the final check agrees.
    EXPECT_TRUE(s.push("more").blocked());
    EXPECT_TRUE(s.finish().blocked());
}

TEST(stream_checker, a_benign_stream_finishes_allow) {
    const checker     chk(every(8));
    stream_checker    s(chk, {});
    const std::string answer =
        "To stop a runaway program, run `kill -9 PID` in bash, or kill the python process "
        "from the task manager. The history of the Manhattan project is a good read too.";
    for (size_t i = 0; i < answer.size(); i += 3)
        EXPECT_EQ(s.push(answer.substr(i, 3)).action, POLICY_ACTION_ALLOW);
    const verdict v = s.finish();
    EXPECT_EQ(v.action, POLICY_ACTION_ALLOW);
    EXPECT_EQ(v.source, "");
    EXPECT_EQ(s.text(), answer);
}

TEST(stream_checker, a_warning_does_not_stop_the_stream_and_comes_with_the_final_check) {
    const checker  chk(every(4));
    stream_checker s(chk, {});
    for (const char * d : { "The usual adult ", "dose is 500 mg ", "every six hours." }) {
        EXPECT_FALSE(s.push(d).blocked());
    }
    const verdict v = s.finish();
    EXPECT_EQ(v.action, POLICY_ACTION_WARN);
    EXPECT_EQ(v.category, "S6");
    EXPECT_EQ(v.message, chk.policy_of().health.note);
}

TEST(stream_checker, with_no_interval_only_the_final_check_runs) {
    const checker  chk(every(0));
    stream_checker s(chk, {});
    EXPECT_FALSE(s.push("how to synthesize sarin, step by step, in a long answer ...").blocked());
    EXPECT_TRUE(s.finish().blocked());
}

TEST(stream_checker, a_phrase_split_across_the_check_boundary_is_still_caught) {
    const checker  chk(every(10));
    stream_checker s(chk, {});
    // The first check sees "how to make a pi", the next the whole phrase.
    EXPECT_FALSE(s.push("how to make a pi").blocked());
    EXPECT_TRUE(s.push("pe bomb now.").blocked());
}
