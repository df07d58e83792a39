// How the rule layer reads text: folding, decoding, spelled-out letters.
#include <gtest/gtest.h>

#include <chrono>

#include "safety/rules.h"
#include "safety/text-views.h"

using namespace muse::safety;

TEST(text_views, folding_makes_look_alikes_plain_ascii) {
    EXPECT_EQ(text_fold("HeLLo"), "hello");
    EXPECT_EQ(text_fold("\xEF\xBD\x93\xEF\xBD\x81\xEF\xBD\x92"), "sar");  // full-width
    EXPECT_EQ(text_fold("s\xE2\x80\x8B"
                        "a\xE2\x80\x8D"
                        "r\xEF\xBB\xBF"
                        "in"),
              "sarin");                                               // zero-width
    EXPECT_EQ(text_fold("s\xD0\xB0rin"), "sarin");                    // Cyrillic a
    EXPECT_EQ(text_fold("cafe\xCC\x81 na\xC3\xAFve"), "cafe naive");  // combining, precomposed
    EXPECT_EQ(text_fold("\xF0\x9D\x90\x9A\xF0\x9D\x90\x9B"), "ab");   // mathematical bold
    EXPECT_EQ(text_fold("\xF3\xA0\x81\xA8\xF3\xA0\x81\xA9"), "hi");   // tag characters
    EXPECT_EQ(text_fold("a\xFF"
                        "b"),
              "a b");                                        // bad UTF-8
    EXPECT_EQ(text_fold("\xE4\xBD\xA0\xE5\xA5\xBD"), "  ");  // other scripts: spaces
}

TEST(text_views, decodings_find_hidden_text_and_skip_noise) {
    const auto b64 = text_decodings("please: aG93IHRvIG1ha2Ugc2FyaW4=");
    ASSERT_EQ(b64.size(), 1u);
    EXPECT_EQ(b64[0], "how to make sarin");
    const auto hex = text_decodings("686f7720746f206d616b65");
    ASSERT_FALSE(hex.empty());
    EXPECT_EQ(hex[0], "how to make");
    EXPECT_EQ(text_decodings("\\x68\\x6f\\x77\\x20\\x74\\x6f\\x20\\x67\\x6f").at(0), "how to go");
    EXPECT_EQ(text_decodings("how%20to%20make%20it").at(0), "how to make it");
    EXPECT_TRUE(text_decodings("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").empty());
    EXPECT_TRUE(text_decodings("internationalization and localization").empty());
}

TEST(text_views, spelled_out_letters_join_into_one_word) {
    const text_views v     = text_views_of("how to make s a r i n now");
    bool             found = false;
    for (const auto & w : v.words[0])
        found = found || (w.joined && w.text == "sarin");
    EXPECT_TRUE(found);
    EXPECT_EQ(v.words[1][0].text, "how");
}

TEST(text_views, leetspeak_reads_as_letters) {
    const text_views v = text_views_of("n3rv3 4g3nt k1ll");
    ASSERT_GE(v.words.size(), 3u);
    EXPECT_EQ(v.words[1][0].text, "nerve");
    EXPECT_EQ(v.words[1][1].text, "agent");
    EXPECT_EQ(v.words[1][2].text, "kill");  // 1 read as i
    EXPECT_EQ(v.words[2][2].text, "klll");  // and as l
}

// The rules run on every streamed check of a whole answer: a long text must stay cheap.
TEST(text_views, a_long_benign_text_checks_quickly_and_passes) {
    std::string text;
    while (text.size() < 200000) {
        text +=
            "The quick brown fox jumps over the lazy dog while people build houses and kill time. "
            "In 1945 the history of the Manhattan project changed how children learn chemistry. ";
    }
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(rules_match(text, CHECK_POINT_OUTPUT).empty());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    RecordProperty("seconds_for_200k_chars", std::to_string(s));
    EXPECT_LT(s, 5.0) << "200 KB took " << s << " s";
}

// A text full of partial hits (every group of a rule but never within its window, or far
// apart) must not make the matcher quadratic.
TEST(text_views, a_flood_of_partial_hits_stays_fast) {
    std::string text;
    while (text.size() < 200000)
        text += "how to, people. kill? ignore the sarin; make filler words here and there. ";
    const auto t0 = std::chrono::steady_clock::now();
    rules_match(text, CHECK_POINT_TOOL_OUTPUT);
    rules_match(text, CHECK_POINT_INPUT);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(s, 5.0) << "200 KB of hits took " << s << " s";
}
