#include "engine/utf8-guard.h"

#include <gtest/gtest.h>
#include <cmath>

using namespace muse;

static bool valid(const std::string & s) {
    utf8_state st;
    return utf8_advance(st, s) && st.need == 0;
}

TEST(utf8_advance, accepts_utf8_and_rejects_what_strict_parsers_reject) {
    EXPECT_TRUE(valid("plain ascii"));
    EXPECT_TRUE(valid("\xC3\xA9"));              // é
    EXPECT_TRUE(valid("\xE2\x82\xAC"));          // €
    EXPECT_TRUE(valid("\xF0\x9F\x98\x80"));      // 😀
    EXPECT_FALSE(valid("\x80"));                 // stray continuation
    EXPECT_FALSE(valid("\xC0\xAF"));             // overlong
    EXPECT_FALSE(valid("\xE0\x80\xAF"));         // overlong 3-byte
    EXPECT_FALSE(valid("\xED\xA0\x80"));         // surrogate
    EXPECT_FALSE(valid("\xF4\x90\x80\x80"));     // above U+10FFFF
    EXPECT_FALSE(valid("\xC3" "A"));             // lead byte then ASCII
}

TEST(utf8_advance, carries_an_open_character_across_pieces) {
    utf8_state st;
    ASSERT_TRUE(utf8_advance(st, "a\xE2"));
    EXPECT_EQ(st.need, 2);
    ASSERT_TRUE(utf8_advance(st, "\x82"));
    EXPECT_EQ(st.need, 1);
    ASSERT_TRUE(utf8_advance(st, "\xAC!"));
    EXPECT_EQ(st.need, 0);
}

TEST(utf8_guard, masks_tokens_that_would_break_the_text) {
    //                      0     1        2       3       4      5
    utf8_guard guard({ "a", "\xE2", "\x82\xAC", "\x82", "\xAC", "b\x80" });
    std::vector<float> logits(6, 1.0f);
    guard.apply(logits.data(), utf8_state{});
    EXPECT_EQ(logits, (std::vector<float>{ 1, 1, -INFINITY, -INFINITY, -INFINITY, -INFINITY }));

    utf8_state open;
    utf8_advance(open, "\xE2");  // two continuation bytes needed
    std::vector<float> cont(6, 1.0f);
    guard.apply(cont.data(), open);
    EXPECT_EQ(cont, (std::vector<float>{ -INFINITY, -INFINITY, 1, 1, 1, -INFINITY }));
}
