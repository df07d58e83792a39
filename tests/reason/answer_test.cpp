#include "reason/answer.h"

#include <gtest/gtest.h>

using namespace muse::reason;

TEST(number_normalize, reads_many_notations) {
    EXPECT_EQ(number_normalize("42"), "42");
    EXPECT_EQ(number_normalize("42.0"), "42");
    EXPECT_EQ(number_normalize("1,234.50"), "1234.5");
    EXPECT_EQ(number_normalize("$1,000"), "1000");
    EXPECT_EQ(number_normalize("-2e3"), "-2000");
    EXPECT_EQ(number_normalize("3/4"), "0.75");
    EXPECT_EQ(number_normalize("50%"), "50");
    EXPECT_EQ(number_normalize(".5"), "0.5");
    EXPECT_EQ(number_normalize("+7."), "7");
    EXPECT_EQ(number_normalize("0.1"), "0.1");
    EXPECT_EQ(number_normalize("1/0"), "");
    EXPECT_EQ(number_normalize("forty"), "");
    EXPECT_EQ(number_normalize(""), "");
}

TEST(answer_extract, finds_the_marked_answer) {
    EXPECT_EQ(answer_extract("so we get \\boxed{51}.").value, "51");
    EXPECT_EQ(answer_extract("Thinking... The answer is 1,000.").value, "1000");
    EXPECT_EQ(answer_extract("Work:\n17*3 = 51\nFinal answer: 51").value, "51");
    EXPECT_EQ(answer_extract("lots of words\n\n51\n").value, "51");
    EXPECT_EQ(answer_extract("It is 42 apples.").kind, ANSWER_KIND_NUMBER);
    EXPECT_EQ(answer_extract("It is 42 apples.").value, "42");
}

TEST(answer_extract, choice_letters) {
    EXPECT_EQ(answer_extract("The answer is (B)").value, "B");
    EXPECT_EQ(answer_extract("Answer: c").value, "C");
    EXPECT_EQ(answer_extract("I pick option d because...").value, "D");
    EXPECT_EQ(answer_extract("B) because it is larger").value, "B");
    EXPECT_EQ(answer_extract("Answer: B").kind, ANSWER_KIND_CHOICE);
}

TEST(answer_extract, text_is_normalised) {
    const auto a = answer_extract("Answer: The Eiffel Tower!");
    EXPECT_EQ(a.kind, ANSWER_KIND_TEXT);
    EXPECT_EQ(a.value, "eiffel tower");
    EXPECT_EQ(answer_extract("answer: eiffel   tower").value, a.value);
}

TEST(answer_extract, empty_and_json) {
    EXPECT_TRUE(answer_extract("").empty());
    EXPECT_TRUE(answer_extract("   \n  ").empty());
    answer_options o;
    o.json_field = "result";
    EXPECT_EQ(answer_extract("{\"result\": 12.50, \"why\": \"x\"}", o).value, "12.5");
    EXPECT_EQ(answer_extract("{\"result\": \"Paris\"}", o).value, "paris");
    EXPECT_TRUE(answer_extract("{\"other\": 1}", o).empty());
    EXPECT_TRUE(answer_extract("not json", o).empty());
}

TEST(vote, majority_wins_and_reports_agreement) {
    std::vector<answer> a = { { ANSWER_KIND_NUMBER, "51" }, { ANSWER_KIND_NUMBER, "51" }, { ANSWER_KIND_NUMBER, "50" },
                              {}, { ANSWER_KIND_NUMBER, "51" } };
    auto r = vote(a);
    EXPECT_EQ(r.winner.value, "51");
    EXPECT_EQ(r.votes, 3);
    EXPECT_EQ(r.n_answers, 4);
    EXPECT_DOUBLE_EQ(r.agreement, 0.75);
    EXPECT_EQ(r.supporters, (std::vector<size_t>{ 0, 1, 4 }));
}

TEST(vote, ties_go_to_the_more_confident_answer) {
    std::vector<answer> a = { { ANSWER_KIND_CHOICE, "A" }, { ANSWER_KIND_CHOICE, "B" }, { ANSWER_KIND_CHOICE, "A" },
                              { ANSWER_KIND_CHOICE, "B" } };
    EXPECT_EQ(vote(a, { 1.0, 5.0, 1.0, 5.0 }).winner.value, "B");
    EXPECT_EQ(vote(a, { 5.0, 1.0, 5.0, 1.0 }).winner.value, "A");
    // No confidences: the first answer given wins the tie (deterministic).
    EXPECT_EQ(vote(a).winner.value, "A");
}

TEST(vote, weighted_votes_and_empty_input) {
    std::vector<answer> a = { { ANSWER_KIND_TEXT, "x" }, { ANSWER_KIND_TEXT, "y" }, { ANSWER_KIND_TEXT, "y" } };
    EXPECT_EQ(vote(a, { 10.0, 1.0, 1.0 }, true).winner.value, "x");
    EXPECT_EQ(vote(a, { 10.0, 1.0, 1.0 }, false).winner.value, "y");
    auto none = vote({ {}, {} });
    EXPECT_TRUE(none.winner.empty());
    EXPECT_EQ(none.n_answers, 0);
    EXPECT_EQ(vote({}).agreement, 0.0);
}
