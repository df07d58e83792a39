// The task suite: every trace computes its answer, held-out and train items never meet, and a
// seed gives the same suite.
#include "train/tasks.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <set>
#include <sstream>

using namespace muse::train;

namespace {

// Replays a column trace: each operand line is the one above without its last digits, each
// step takes those last digits and the carry the step above left, its result is right and
// its digit goes in front of the result so far, and the last line is that result.
std::string replay(const std::string & trace, char op) {
    std::istringstream in(trace);
    std::string        rest, step, result, a_prev, b_prev;
    int                carry = 0;
    while (std::getline(in, rest)) {
        if (!std::getline(in, step)) {  // the answer line
            const size_t nz = result.find_first_not_of('0');
            EXPECT_EQ(rest, nz == std::string::npos ? "0" : result.substr(nz)) << trace;
            return rest;
        }
        const size_t o = rest.find(op);
        EXPECT_NE(o, std::string::npos) << rest;
        const std::string a = rest.substr(0, o), b = rest.substr(o + 1);
        if (!a_prev.empty()) {
            EXPECT_EQ(a, a_prev.size() > 1 ? a_prev.substr(0, a_prev.size() - 1) : "0") << trace;
            if (op != '*') EXPECT_EQ(b, b_prev.size() > 1 ? b_prev.substr(0, b_prev.size() - 1) : "0") << trace;
        }
        a_prev = a, b_prev = b;
        const int x = a.back() - '0', y = op == '*' ? std::stoi(b) : b.back() - '0';
        int       v = 0;
        char      want[64];
        if (op == '+') {
            v = x + y + carry;
            snprintf(want, sizeof want, carry ? "%d+%d+1=%d" : "%d+%d=%d", x, y, v);
        } else if (op == '-') {
            v = x - y - carry;
            const bool out = v < 0;
            snprintf(want, sizeof want, carry ? "%s%d-%d-1=%d" : "%s%d-%d=%d", out ? "1" : "", x, y, out ? v + 10 : v);
        } else {
            v = x * y + carry;
            if (carry) snprintf(want, sizeof want, "%d*%d+%d=%d", x, y, carry, v);
            else snprintf(want, sizeof want, "%d*%d=%d", x, y, v);
        }
        const size_t sp = step.find(' ');
        EXPECT_EQ(step.substr(0, sp), want) << trace;
        const bool last = in.peek() != EOF && trace.find('\n', (size_t) in.tellg() + 1) == std::string::npos;
        if (op == '-') {
            result = std::to_string(v < 0 ? v + 10 : v) + result;
            carry  = v < 0;
        } else {
            result = (last ? std::to_string(v) : std::to_string(v % 10)) + result;
            carry  = v / 10;
        }
        EXPECT_EQ(step.substr(sp + 1), result) << trace;
    }
    ADD_FAILURE() << "no answer line: " << trace;
    return "";
}

}  // namespace

TEST(tasks, traces_compute_their_answers) {
    std::mt19937_64 rng(5);
    for (int i = 0; i < 500; i++) {
        const uint64_t a = rng() % 100000000, b = rng() % 100000000, d = 1 + rng() % 9;
        EXPECT_EQ(replay(trace_add(a, b), '+'), std::to_string(a + b));
        EXPECT_EQ(replay(trace_sub(std::max(a, b), std::min(a, b)), '-'), std::to_string(std::max(a, b) - std::min(a, b)));
        EXPECT_EQ(replay(trace_mul(a, d), '*'), std::to_string(a * d));
    }
    EXPECT_EQ(trace_add(4738, 2956), "4738+2956\n8+6=14 4\n473+295\n3+5+1=9 94\n47+29\n7+9=16 694\n4+2\n4+2+1=7 7694\n7694");
    EXPECT_EQ(trace_add(95, 7), "95+7\n5+7=12 2\n9+0\n9+0+1=10 102\n102");
    EXPECT_EQ(trace_sub(4738, 2956), "4738-2956\n8-6=2 2\n473-295\n13-5=8 82\n47-29\n17-9-1=7 782\n4-2\n4-2-1=1 1782\n1782");
    EXPECT_EQ(trace_sub(1000, 999), "1000-999\n10-9=1 1\n100-99\n10-9-1=0 01\n10-9\n10-9-1=0 001\n1-0\n1-0-1=0 0001\n1");
    EXPECT_EQ(trace_mul(4738, 6), "4738*6\n8*6=48 8\n473*6\n3*6+4=22 28\n47*6\n7*6+2=44 428\n4*6\n4*6+4=28 28428\n28428");
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
