#include "engine/text-stream.h"

#include <gtest/gtest.h>

using muse::text_stream;

static std::string feed(text_stream & ts, const std::vector<std::string> & pieces, bool * stopped = nullptr) {
    std::string out;
    for (const auto & p : pieces) {
        if (ts.push(p, out)) {
            if (stopped) *stopped = true;
            return out;
        }
    }
    if (stopped) *stopped = false;
    return out + ts.flush();
}

TEST(text_stream, passes_text_through_without_stops) {
    text_stream ts;
    EXPECT_EQ(feed(ts, { "Hel", "lo", " world" }), "Hello world");
}

TEST(text_stream, cuts_at_a_stop_string_split_across_pieces) {
    text_stream ts;
    ts.set_stops({ "STOP" });
    bool stopped = false;
    EXPECT_EQ(feed(ts, { "abc S", "TO", "P tail" }, &stopped), "abc ");
    EXPECT_TRUE(stopped);
}

TEST(text_stream, holds_back_a_possible_stop_prefix_then_releases_it) {
    text_stream ts;
    ts.set_stops({ "</end>" });
    std::string out;
    EXPECT_FALSE(ts.push("x </e", out));
    EXPECT_EQ(out, "x ");
    EXPECT_FALSE(ts.push("lse", out));
    EXPECT_EQ(out, "x </else");
}

TEST(text_stream, earliest_of_several_stops_wins) {
    text_stream ts;
    ts.set_stops({ "bb", "a" });
    bool stopped = false;
    EXPECT_EQ(feed(ts, { "xxbba" }, &stopped), "xx");
    EXPECT_TRUE(stopped);
}

TEST(text_stream, incomplete_utf8_waits_for_its_continuation) {
    text_stream ts;
    std::string out;
    const std::string euro = "\xE2\x82\xAC";  // €
    EXPECT_FALSE(ts.push("a" + euro.substr(0, 2), out));
    EXPECT_EQ(out, "a");
    EXPECT_FALSE(ts.push(euro.substr(2), out));
    EXPECT_EQ(out, "a" + euro);
    EXPECT_EQ(muse::utf8_incomplete_tail("\xF0\x9F\x98"), 3u);
    EXPECT_EQ(muse::utf8_incomplete_tail("ok"), 0u);
}
