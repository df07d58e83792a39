// The task suite: every trace computes its answer, held-out and train items never meet, and a
// seed gives the same suite.
#include "train/tasks.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <sstream>

using namespace muse::train;

namespace {

// Replays a column trace: each line's digits and carry must give the next line's carry, and
// the digits written, read from the last line to the first, the answer.
uint64_t replay_add(const std::string & trace) {
    std::istringstream in(trace);
    std::string        line, digits;
    int                carry = 0;
    uint64_t           last  = 0;
    while (std::getline(in, line)) {
        if (line.find('=') == std::string::npos) {
            last = std::stoull(line);
            break;
        }
        int x = 0, y = 0, c = 0, s = 0;
        if (sscanf(line.c_str(), "%d+%d+%d=%d", &x, &y, &c, &s) == 4) {
        } else {
            EXPECT_EQ(sscanf(line.c_str(), "%d+%d=%d", &x, &y, &s), 3) << line;
        }
        EXPECT_EQ(c, carry) << line;
        EXPECT_EQ(x + y + c, s) << line;
        digits.insert(digits.begin(), (char) ('0' + s % 10));
        carry = s / 10;
    }
    if (carry) digits.insert(digits.begin(), '1');
    EXPECT_EQ(std::stoull(digits), last) << trace;
    return last;
}

}  // namespace

TEST(tasks, traces_compute_their_answers) {
    std::mt19937_64 rng(5);
    for (int i = 0; i < 500; i++) {
        const uint64_t a = rng() % 100000000, b = rng() % 100000000, d = 1 + rng() % 9;
        EXPECT_EQ(replay_add(trace_add(a, b)), a + b);
        const std::string sub = trace_sub(std::max(a, b), std::min(a, b));
        EXPECT_EQ(std::stoull(sub.substr(sub.rfind('\n') + 1)), std::max(a, b) - std::min(a, b)) << sub;
        const std::string mul = trace_mul(a, d);
        EXPECT_EQ(std::stoull(mul.substr(mul.rfind('\n') + 1)), a * d) << mul;
    }
    EXPECT_EQ(trace_add(4738, 2956), "8+6=14\n3+5+1=9\n7+9=16\n4+2+1=7\n7694");
    EXPECT_EQ(trace_sub(4738, 2956), "8-6=2\n13-5=8\n17-9-1=7\n4-2-1=1\n1782");
    EXPECT_EQ(trace_mul(4738, 6), "8*6=48\n3*6+4=22\n7*6+2=44\n4*6+4=28\n28428");
}

TEST(tasks, held_out_items_never_reach_training_and_seeds_reproduce) {
    std::set<std::string> held;
    for (task_split s : { TASK_SPLIT_EASY, TASK_SPLIT_HARD, TASK_SPLIT_TOOL }) {
        const auto a = task_suite(s, 7, 200), b = task_suite(s, 7, 200);
        ASSERT_EQ(a.size(), 200u);
        for (size_t i = 0; i < a.size(); i++) {
            EXPECT_EQ(a[i].question, b[i].question);
            EXPECT_TRUE(task_held_out(a[i].question));
            held.insert(a[i].question);
        }
    }
    task_generator train(TASK_SPLIT_TRAIN, 7);
    int            tool = 0;
    for (int i = 0; i < 5000; i++) {
        const task_item it = train.next();
        EXPECT_FALSE(held.count(it.question)) << it.question;
        EXPECT_FALSE(task_held_out(it.question));
        tool += it.kind == TASK_KIND_PRODUCT;
        if (it.kind == TASK_KIND_PRODUCT) {
            EXPECT_TRUE(it.reasoning.empty());
            EXPECT_NE(it.tool_code.find("print("), std::string::npos);
        } else {
            EXPECT_EQ(it.reasoning.substr(it.reasoning.rfind('\n') + 1), it.answer) << it.question;
        }
    }
    EXPECT_GT(tool, 300);  // about one in ten
    const auto hard = task_suite(TASK_SPLIT_HARD, 1, 100);
    for (const auto & it : hard) EXPECT_GE(it.digits, it.kind == TASK_KIND_WORD ? 2 : 6) << it.question;
    EXPECT_THROW(task_split_parse("medium"), std::exception);
}
