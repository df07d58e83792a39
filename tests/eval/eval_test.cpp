// `muse eval`'s parts: the suite format and each checker, the mode names, the interval, and a
// real run of the modes on the tiny Qwen3 test model (random weights: mechanics, not accuracy).
#include "engine/backend.h"
#include "engine/error.h"
#include "engine/model.h"
#include "engine/session.h"
#include "eval/report.h"
#include "eval/runner.h"
#include "eval/suite.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace muse;
using namespace muse::eval;

TEST(eval_suite, every_checker_kind) {
    const auto items = suite_parse(
        "{\"id\":\"n\",\"question\":\"What is 2+2?\",\"answer\":\"4\"}\n"
        "\n"
        "{\"question\":\"Name?\",\"answer\":\"Muse\",\"checker\":\"exact\"}\n"
        "{\"question\":\"Year?\",\"answer\":\"^20[0-9]{2}$\",\"checker\":\"regex\"}\n"
        "{\"question\":\"JSON?\",\"answer\":\"7\",\"checker\":\"json\",\"field\":\"n\",\"tags\":{\"k\":1}}\n",
        "s.jsonl");
    ASSERT_EQ(items.size(), 4u);
    EXPECT_EQ(items[0].checker, CHECKER_KIND_NUMERIC);  // a number answer defaults to numeric
    EXPECT_EQ(items[1].id, "3");                        // the line number when no id
    EXPECT_TRUE(answer_check(items[0], "The answer is 4.0"));
    EXPECT_TRUE(answer_check(items[0], "4"));
    EXPECT_FALSE(answer_check(items[0], "44"));
    EXPECT_FALSE(answer_check(items[0], ""));
    EXPECT_TRUE(answer_check(items[1], "  Muse\n"));
    EXPECT_FALSE(answer_check(items[1], "muse"));
    EXPECT_TRUE(answer_check(items[2], "2026"));
    EXPECT_FALSE(answer_check(items[2], "in 2026"));
    std::string got;
    EXPECT_TRUE(answer_check(items[3], "{\"n\": 7}", &got));
    EXPECT_EQ(got, "7");
    EXPECT_FALSE(answer_check(items[3], "{\"m\": 7}"));
    EXPECT_FALSE(answer_check(items[3], "not json"));
    EXPECT_EQ(items[3].tags, "{\"k\":1}");
}

TEST(eval_suite, bad_suites_name_the_line_and_the_fix) {
    const auto message = [](const std::string & text) {
        try {
            suite_parse(text, "bad.jsonl");
        } catch (const input_error & e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(message("{\"question\":\"q\",\"answer\":\"1\"}\nnot json\n").find("bad.jsonl:2: not a JSON object"),
              std::string::npos);
    EXPECT_NE(message("{\"question\":\"q\"}").find("missing \"answer\""), std::string::npos);
    EXPECT_NE(message("{\"question\":\"q\",\"answer\":\"x\",\"checker\":\"fuzzy\"}").find("unknown checker"), std::string::npos);
    EXPECT_NE(message("{\"question\":\"q\",\"answer\":\"x\",\"checker\":\"numeric\"}").find("not a number"), std::string::npos);
    EXPECT_NE(message("{\"question\":\"q\",\"answer\":\"(\",\"checker\":\"regex\"}").find("not a valid regex"), std::string::npos);
    EXPECT_NE(message("{\"question\":\"q\",\"answer\":\"1\",\"checker\":\"json\"}").find("needs \"field\""), std::string::npos);
    EXPECT_NE(message("{\"id\":\"a\",\"question\":\"q\",\"answer\":\"1\"}\n{\"id\":\"a\",\"question\":\"r\",\"answer\":\"2\"}")
                  .find("used twice"),
              std::string::npos);
    EXPECT_NE(message("\n\n").find("no items"), std::string::npos);
    EXPECT_THROW(suite_load("/nonexistent/suite.jsonl"), input_error);
}

TEST(eval_modes, names_parse_and_bad_ones_are_refused) {
    EXPECT_EQ(eval_mode_parse("instant").reason.mode, reason::REASON_MODE_INSTANT);
    const auto t = eval_mode_parse("thinking:256");
    EXPECT_EQ(t.reason.mode, reason::REASON_MODE_THINKING);
    EXPECT_EQ(t.reason.think_budget, 256);
    const auto c = eval_mode_parse("contemplate:8:confidence");
    EXPECT_EQ(c.reason.agents, 8);
    EXPECT_EQ(c.reason.aggregate, reason::AGGREGATE_KIND_CONFIDENCE);
    EXPECT_EQ(c.reason.keep_percent, 90.0);
    EXPECT_EQ(eval_mode_parse("contemplate:8:confidence:10").reason.keep_percent, 10.0);
    EXPECT_TRUE(eval_mode_parse("thinking:64+tools").tools);
    for (const char * bad : { "thinking:x", "contemplate", "contemplate:1", "contemplate:17", "contemplate:4:mean",
                              "fast", "contemplate:4+tools", "thinking:0", "contemplate:8:vote:10",
                              "contemplate:8:confidence:0", "contemplate:8:confidence:101" }) {
        EXPECT_THROW(eval_mode_parse(bad), input_error) << bad;
    }
}

TEST(eval_stats, wilson_interval) {
    double lo = 0, hi = 0;
    wilson_interval(45, 50, lo, hi);  // 90%
    EXPECT_NEAR(lo, 0.786, 0.002);
    EXPECT_NEAR(hi, 0.957, 0.002);
    wilson_interval(0, 10, lo, hi);
    EXPECT_EQ(lo, 0);
    EXPECT_NEAR(hi, 0.278, 0.002);
    wilson_interval(0, 0, lo, hi);
    EXPECT_EQ(hi, 0);
}

TEST(eval_run, every_mode_answers_every_item_on_a_real_model) {
    backend      be(false);
    model_params mp;
    mp.path = std::string(MUSE_TEST_MODELS_DIR) + "/qwen3-tiny.gguf";
    model          mdl(be, mp);
    context_params cp;
    cp.n_ctx     = 2048;
    cp.n_seq_max = 6;
    session    s(mdl, cp);
    const auto items = suite_parse("{\"question\":\"What is 2+2?\",\"answer\":\"4\"}\n"
                                   "{\"question\":\"What is 3+5?\",\"answer\":\"8\"}\n",
                                   "t.jsonl");
    eval_options o;
    o.max_tokens = 12;
    o.repeat     = 2;
    for (const char * m : { "instant", "thinking:8", "contemplate:3:vote", "contemplate:3:confidence" }) {
        o.modes.push_back(eval_mode_parse(m));
    }
    size_t     calls   = 0;
    const auto reports = eval_run(s, mdl, items, o, [&](const eval_progress & p) {
        calls++;
        EXPECT_EQ(p.done, calls);
        EXPECT_EQ(p.total, 16u);
    });
    ASSERT_EQ(reports.size(), 4u);
    EXPECT_EQ(calls, 16u);
    for (const auto & r : reports) {
        EXPECT_EQ(r.n, 4) << r.label;
        EXPECT_EQ(r.outcomes.size(), 4u);
        EXPECT_GE(r.accuracy, 0.0);
        EXPECT_LE(r.ci_high, 1.0);
        EXPECT_LE(r.ci_low, r.accuracy);
        EXPECT_GT(r.answer_tokens + r.reasoning_tokens, 0) << r.label;
        EXPECT_GT(r.latency_p90, 0);
        EXPECT_GE(r.latency_p90, r.latency_p50);
    }
    EXPECT_EQ(reports[0].reasoning_tokens, 0) << "instant mode reasoned";
    EXPECT_LE(reports[1].reasoning_tokens, 8 + 4) << "the thinking budget was not kept";
    // The same seeds give the same answers.
    eval_options one = o;
    one.modes        = { o.modes[1] };
    const auto again = eval_run(s, mdl, items, one);
    for (size_t i = 0; i < again[0].outcomes.size(); i++) {
        EXPECT_EQ(again[0].outcomes[i].content, reports[1].outcomes[i].content);
    }
    const auto j = nlohmann::json::parse(report_json({ "m", "t.jsonl", "cpu", 2, 2 }, reports, true));
    EXPECT_EQ(j["modes"].size(), 4u);
    EXPECT_EQ(j["modes"][2]["outcomes"].size(), 4u);
    EXPECT_NE(report_table(reports).find("| contemplate:3:vote |"), std::string::npos);
    // A +tools mode without tools is refused before anything runs.
    eval_options t = o;
    t.modes        = { eval_mode_parse("thinking+tools") };
    EXPECT_THROW(eval_run(s, mdl, items, t), input_error);
}
