// The reasoning modes on the tiny models: shared-prompt agents equal single runs, budgets hold,
// early stopping frees cells, cancelling frees everything, plans always parse.
#include "engine/error.h"
#include "reason/modes.h"
#include "reason/orchestrate.h"
#include "test-util.h"

#include <map>
#include <nlohmann/json.hpp>

using namespace muse;
using namespace muse::reason;
using namespace muse::test;

namespace {

chat_request question(const std::string & text) {
    chat_request req = dated_request();
    req.messages.push_back({ "user", text, {}, "", {}, "", "" });
    return req;
}

reason_params contemplate_params(int agents, float temperature, int max_tokens) {
    reason_params p;
    p.mode                 = REASON_MODE_CONTEMPLATE;
    p.agents               = agents;
    p.sampling.temperature = temperature;
    p.sampling.top_k       = 0;
    p.sampling.top_p       = 1.0f;
    p.sampling.min_p       = 0.0f;
    p.sampling.seed        = 100;
    p.max_tokens           = max_tokens;
    return p;
}

class modes : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override { mdl = model_open(test_backend(), GetParam()); }
    std::unique_ptr<model> mdl;
};

}  // namespace

// Greedy agents forked from one shared prompt each generate the prompt's run alone (up to the
// near ties where a batch's last bits may pick the other token: expect_greedy_equals_alone).
TEST_P(modes, greedy_agents_all_equal_the_single_run) {
    const auto request = question("What is 6 times 7?");
    const auto prompt  = chat_format(*mdl, request, mdl->media_marker());
    std::map<int, std::vector<int32_t>> tokens;  // by agent; -1: the single run
    const auto record  = [&](const agent_progress & p) { tokens[p.agent].push_back(p.event->token); };

    session s(*mdl, context_small(8, 4096));
    reason_params single = contemplate_params(1, 0.0f, 20);
    single.mode          = REASON_MODE_THINKING;
    const auto alone     = reason_run(s, request, {}, single, record);
    EXPECT_EQ(s.n_live(), 0);
    expect_greedy_equals_alone(*mdl, prompt, tokens[-1], 20, "thinking mode");

    const auto many = reason_run(s, request, {}, contemplate_params(4, 0.0f, 20), record);
    ASSERT_EQ(many.agents.size(), 4u);
    for (const auto & a : many.agents) {
        expect_greedy_equals_alone(*mdl, prompt, tokens[a.index], 20, "agent " + std::to_string(a.index));
        EXPECT_EQ(a.reasoning_tokens + a.answer_tokens, (int) tokens[a.index].size());
    }
    bool same = true;
    for (const auto & a : many.agents) same = same && tokens[a.index] == tokens[0];
    if (same) EXPECT_DOUBLE_EQ(many.agreement, many.final_answer.empty() ? 0.0 : 1.0);
    EXPECT_EQ(many.prompt_tokens, alone.prompt_tokens) << "the prompt is decoded once";
    EXPECT_EQ(s.n_live(), 0);
}

TEST_P(modes, agents_with_different_seeds_differ) {
    session s(*mdl, context_small(8, 4096));
    const auto r = reason_run(s, question("Name a fruit."), {}, contemplate_params(4, 1.0f, 16));
    std::set<std::string> distinct;
    for (const auto & a : r.agents) distinct.insert(a.reasoning + "|" + a.content);
    EXPECT_GT(distinct.size(), 1u);
    std::set<uint32_t> seeds;
    for (const auto & a : r.agents) seeds.insert(a.seed);
    EXPECT_EQ(seeds.size(), 4u);
}

TEST_P(modes, token_budgets_hold_per_agent_and_in_total) {
    session s(*mdl, context_small(8, 4096));
    auto    p    = contemplate_params(4, 1.0f, 30);
    p.total_budget = 70;
    const auto r = reason_run(s, question("Tell me a long story."), {}, p);
    int total = 0;
    for (const auto & a : r.agents) {
        EXPECT_LE(a.reasoning_tokens + a.answer_tokens, 30) << "agent " << a.index;
        total += a.reasoning_tokens + a.answer_tokens;
    }
    EXPECT_LE(total, 70);
    EXPECT_EQ(r.reasoning_tokens + r.answer_tokens, total);
    int n_budget = 0;
    for (const auto & a : r.agents) n_budget += a.status == AGENT_STATUS_BUDGET;
    EXPECT_GT(n_budget, 0) << "4 agents x 30 tokens cannot fit in 70";
}

// A threshold no window can reach: every agent but the warm-up one stops as soon as its
// first window is full, and its cells are freed at that moment.
TEST_P(modes, online_early_stop_stops_low_confidence_agents_and_frees_them) {
    session s(*mdl, context_small(8, 4096));
    auto    p             = contemplate_params(4, 1.0f, 40);
    p.aggregate           = AGGREGATE_KIND_CONFIDENCE;
    p.warmup_agents       = 1;
    p.confidence_window   = 4;
    p.stop_threshold      = 1e9;
    int min_live = 100;
    const auto r = reason_run(s, question("Explain gravity."), {}, p, [&](const agent_progress & pr) {
        if (pr.agent == 0 && !pr.event->finished) min_live = std::min(min_live, s.n_live());
    });
    ASSERT_EQ(r.agents.size(), 4u);
    EXPECT_FALSE(r.agents[0].stopped_early);
    for (size_t i = 1; i < 4; ++i) {
        EXPECT_TRUE(r.agents[i].stopped_early) << i;
        EXPECT_EQ(r.agents[i].reasoning_tokens + r.agents[i].answer_tokens, 4) << "stopped when its first window filled";
    }
    EXPECT_EQ(min_live, 2) << "the parked prompt and the warm-up agent; the stopped agents' cells are freed";
    EXPECT_EQ(s.n_live(), 0);
}

// Greedy agents all write the same text: the first stage (2 agents) agrees, and the other
// agents never start. With consensus above 1 every agent runs, and gives that same answer.
TEST_P(modes, confidence_stops_starting_agents_once_the_first_agree) {
    session s(*mdl, context_small(8, 4096));
    auto    p  = contemplate_params(6, 0.0f, 16);
    p.aggregate = AGGREGATE_KIND_CONFIDENCE;
    const auto r = reason_run(s, question("What is 2 + 2?"), {}, p);
    ASSERT_EQ(r.agents.size(), 6u);
    int generated = 0;
    for (const auto & a : r.agents) {
        if (a.index < 2) {
            EXPECT_TRUE(a.status == AGENT_STATUS_DONE || a.status == AGENT_STATUS_LENGTH) << a.index;
            EXPECT_GT(a.reasoning_tokens + a.answer_tokens, 0) << a.index;
        } else {
            EXPECT_EQ(a.status, AGENT_STATUS_SKIPPED) << a.index;
            EXPECT_EQ(a.reasoning_tokens + a.answer_tokens, 0) << a.index;
            EXPECT_FALSE(a.kept) << a.index;
        }
        generated += a.reasoning_tokens + a.answer_tokens;
    }
    EXPECT_EQ(r.reasoning_tokens + r.answer_tokens, generated);
    EXPECT_EQ(r.agents[0].content, r.agents[1].content);
    EXPECT_EQ(r.content, r.agents[0].content);
    EXPECT_EQ(s.n_live(), 0);

    p.consensus     = 1.5;  // never: stages of 2, 4, then all 6
    const auto all  = reason_run(s, question("What is 2 + 2?"), {}, p);
    ASSERT_EQ(all.agents.size(), 6u);
    for (const auto & a : all.agents) {
        EXPECT_NE(a.status, AGENT_STATUS_SKIPPED) << a.index;
        // Later stages decode the prompt's last token again: the same text, up to near ties.
        EXPECT_EQ(a.content, r.agents[0].content) << a.index;
    }
    EXPECT_EQ(all.content, r.content);
    EXPECT_EQ(s.n_live(), 0);
}

TEST_P(modes, offline_confidence_keeps_the_top_traces) {
    session s(*mdl, context_small(8, 4096));
    auto    p        = contemplate_params(4, 1.0f, 12);
    p.aggregate      = AGGREGATE_KIND_CONFIDENCE;
    p.keep_percent   = 50;
    p.warmup_agents  = 4;  // no online stopping
    const auto r = reason_run(s, question("Pick a number."), {}, p);
    int kept = 0;
    for (const auto & a : r.agents) kept += a.kept;
    EXPECT_GE(kept, 2);
    EXPECT_LE(kept, 3);
}

TEST_P(modes, synthesis_pass_reads_the_agents_answers) {
    session s(*mdl, context_small(8, 4096));
    auto    p    = contemplate_params(3, 0.8f, 12);
    p.aggregate  = AGGREGATE_KIND_SYNTHESIZE;
    const auto r = reason_run(s, question("What is the capital of France?"), {}, p);
    ASSERT_EQ(r.agents.size(), 4u);
    EXPECT_EQ(r.agents.back().role, "synthesis");
    EXPECT_EQ(r.content, r.agents.back().content);
    EXPECT_EQ(s.n_live(), 0);
}

TEST_P(modes, cancelling_mid_way_frees_every_sequence) {
    session           s(*mdl, context_small(8, 4096));
    std::atomic<bool> cancel{ false };
    int               tokens = 0;
    const auto r = reason_run(s, question("Write an essay."), {}, contemplate_params(4, 1.0f, 200),
                              [&](const agent_progress &) {
                                  if (++tokens == 20) cancel = true;
                              }, &cancel);
    EXPECT_TRUE(r.cancelled);
    for (const auto & a : r.agents) EXPECT_EQ(a.status, AGENT_STATUS_CANCELLED) << a.index;
    EXPECT_LT(tokens, 4 * 200);
    EXPECT_EQ(s.n_live(), 0);
}

TEST_P(modes, instant_and_thinking_report_channels) {
    session       s(*mdl, context_small(2, 4096));
    reason_params p = contemplate_params(1, 0.0f, 24);
    p.mode          = REASON_MODE_INSTANT;
    const auto instant = reason_run(s, question("Hi"), {}, p);
    EXPECT_EQ(instant.reasoning_tokens + instant.answer_tokens, 24);
    p.mode = REASON_MODE_THINKING;
    const auto thinking = reason_run(s, question("Hi"), {}, p);
    EXPECT_EQ(thinking.reasoning_tokens + thinking.answer_tokens, 24);
    EXPECT_EQ(s.n_live(), 0);
}

TEST_P(modes, orchestrate_plans_runs_subagents_and_merges) {
    session       s(*mdl, context_small(8, 4096));
    reason_params p = contemplate_params(1, 0.7f, 16);
    p.mode          = REASON_MODE_ORCHESTRATE;
    p.max_subtasks  = 3;
    const auto r = reason_run(s, question("Plan a trip to Rome and estimate its cost."), {}, p);
    ASSERT_GE(r.agents.size(), 3u);  // planner, >= 1 sub-agent, merger
    EXPECT_EQ(r.agents.front().role, "planner");
    EXPECT_EQ(r.agents.back().role, "merger");
    EXPECT_GE(r.plan.size(), 1u);
    EXPECT_LE(r.plan.size(), 3u);
    EXPECT_EQ(r.agents.size(), r.plan.size() + 2);
    EXPECT_EQ(s.n_live(), 0);
}

// What a tool loop calls for spawn_agent: the tool renders in the model's template, and
// subagents_run forks one sub-agent per task from a parked conversation, all batched, each
// reporting under its task's title; the conversation's cells are not decoded again and stay
// the caller's.
TEST_P(modes, spawn_agent_runs_subagents_forked_from_a_parked_conversation) {
    auto with_tool = question("Plan a trip to Rome.");
    with_tool.tools.push_back(spawn_agent_tool());
    const auto tool_prompt = chat_format(*mdl, with_tool, mdl->media_marker());
    EXPECT_NE(tool_prompt.text().find("spawn_agent"), std::string::npos);
    EXPECT_TRUE(nlohmann::json::parse(spawn_agent_tool().parameters)["properties"].contains("tasks"));

    session     s(*mdl, context_small(8, 4096));
    std::string notes = "Plan a trip to Rome. Notes:";
    for (int i = 0; i < 80; ++i) notes += " day" + std::to_string(i % 7) + " museum";
    const auto request = question(notes);
    const auto root    = s.sequence_add(chat_format(*mdl, request, mdl->media_marker()), {}, greedy(8));
    s.prefill(root);
    s.sequence_park(root);
    const int64_t decoded = s.n_decoded();
    const std::vector<subtask> tasks = { { "flights", "Find flights." }, { "hotels", "Find a hotel." } };
    const auto reports = subagents_run(s, root, request, {}, tasks, contemplate_params(2, 0.7f, 12), {}, nullptr, 5);
    ASSERT_EQ(reports.size(), 2u);
    int generated = 0;
    for (size_t i = 0; i < reports.size(); ++i) {
        EXPECT_EQ(reports[i].index, 5 + (int) i);
        EXPECT_EQ(reports[i].role, "sub-agent: " + tasks[i].title);
        EXPECT_GT(reports[i].reasoning_tokens + reports[i].answer_tokens, 0);
        EXPECT_LE(reports[i].reasoning_tokens + reports[i].answer_tokens, 12);
        generated += reports[i].reasoning_tokens + reports[i].answer_tokens;
    }
    // Each sub-agent decodes its task's suffix and its own tokens, never the conversation again
    // (twice more would be over 2 x 200 tokens).
    const int64_t prompt_len = s.sequence(root).n_prompt;
    ASSERT_GT(prompt_len, 200);
    EXPECT_LT(s.n_decoded() - decoded, prompt_len + generated) << "the conversation was decoded again";
    EXPECT_EQ(s.n_live(), 1) << "only the caller's conversation is left";
    EXPECT_GE(s.kv_pos_max(root), 0);
    s.sequence_cancel(root);
    EXPECT_EQ(s.n_live(), 0);

    std::vector<subtask> too_many(8, subtask{ "t", "i" });
    const auto root2 = s.sequence_add(chat_format(*mdl, request, mdl->media_marker()), {}, greedy(8));
    s.prefill(root2);
    s.sequence_park(root2);
    EXPECT_THROW(subagents_run(s, root2, request, {}, too_many, contemplate_params(2, 0.7f, 4), {}, nullptr), input_error);
}

TEST_P(modes, too_many_agents_for_the_session_is_an_input_error) {
    session s(*mdl, context_small(3, 2048));
    EXPECT_THROW(reason_run(s, question("x"), {}, contemplate_params(4, 0.5f, 4)), input_error);
    EXPECT_EQ(s.n_live(), 0);
    auto bad   = contemplate_params(17, 0.5f, 4);
    EXPECT_THROW(reason_run(s, question("x"), {}, bad), input_error);
}

INSTANTIATE_TEST_SUITE_P(tiny, modes, ::testing::Values("qwen3-tiny.gguf", "muse-glimmer-tiny.gguf"), model_param_name);

// The planner's plan is valid under its grammar for 50 seeds, even with random weights.
TEST(planner, plan_is_valid_json_under_its_grammar_for_50_seeds) {
    auto         m   = model_open(test_backend(), "qwen3-tiny.gguf");
    chat_request req = question("Organise a conference.\n\nSplit this request into at most 3 sub-tasks. Reply only with JSON.");
    req.json_schema     = plan_schema(3);
    req.enable_thinking = false;
    const auto prompt   = chat_format(*m, req, m->media_marker());
    ASSERT_TRUE(prompt.has_grammar());
    int n_ok = 0;
    seeds_run(*m, prompt, 50, 1200, 8192, [&](uint32_t seed, const std::string & text, finish_reason reason) {
        ASSERT_EQ(reason, FINISH_REASON_STOP) << "seed " << seed << ": plan not finished: " << text;
        const auto parsed = chat_parse(prompt, text, false);
        auto       j      = nlohmann::json::parse(parsed.content, nullptr, false);
        ASSERT_FALSE(j.is_discarded()) << "seed " << seed << ": " << parsed.content;
        EXPECT_GE(plan_parse(parsed.content, 3).size(), 1u) << "seed " << seed << ": " << parsed.content;
        EXPECT_LE(j["subtasks"].size(), 3u);
        n_ok++;
    });
    EXPECT_EQ(n_ok, 50);
}
