#pragma once
// The reasoning modes, one interface for the CLI and the server:
//   instant      answer directly (reasoning off where the template allows)
//   thinking     reason within a budget, then answer; reasoning and answer counted apart
//   contemplate  N agents from one shared prompt, batched, combined by vote / confidence / synthesis
//   orchestrate  a planner splits the task, sub-agents solve the parts in one batch, a merger answers
#include "engine/chat-prompt.h"
#include "engine/media.h"
#include "engine/sampling-params.h"
#include "engine/session.h"
#include "reason/answer.h"

#include <atomic>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace muse::reason {

enum reason_mode {
    REASON_MODE_INSTANT,
    REASON_MODE_THINKING,
    REASON_MODE_CONTEMPLATE,
    REASON_MODE_ORCHESTRATE,
};

enum aggregate_kind {
    AGGREGATE_KIND_VOTE,
    AGGREGATE_KIND_CONFIDENCE,
    AGGREGATE_KIND_SYNTHESIZE,
};

// Parse / name; parse throws input_error listing the valid names.
reason_mode    reason_mode_parse(const std::string & name);
const char *   reason_mode_name(reason_mode mode);
aggregate_kind aggregate_kind_parse(const std::string & name);
const char *   aggregate_kind_name(aggregate_kind kind);

// The most agents one contemplation runs (reason_params::agents; run.cpp checks it).
inline constexpr int32_t k_max_agents = 16;

struct reason_params {
    reason_mode     mode        = REASON_MODE_THINKING;
    sampling_params sampling;              // base sampling (agent i gets seed + i, temperature spread)
    int32_t         max_tokens   = 1024;   // per agent / per pass
    int32_t         think_budget = -1;     // per agent reasoning tokens; -1: none
    std::vector<std::string> stop;

    // contemplate
    int32_t        agents             = 4;     // 1..16
    aggregate_kind aggregate          = AGGREGATE_KIND_VOTE;
    float          temperature_spread = 0.3f;  // agents' temperatures spread evenly over +-spread/2
    bool           perspectives       = false; // give each agent a distinct approach hint
    int32_t        total_budget       = -1;    // generated tokens over all agents; -1: none
    int32_t        confidence_top_k   = 20;    // DeepConf k
    int32_t        confidence_window  = 64;    // tokens per group-confidence window
    // confidence: agents start in stages (warm-up W, then 2W, 4W, ... agents in all, at most
    // `agents`); after a stage, when at least two finished agents and `consensus` of them give
    // one answer, the rest never start (DeepConf's adaptive sampling: docs/eval.md).
    int32_t        warmup_agents      = 0;     // confidence: the first stage, W; 0: 2
    double         consensus          = 0.75;  // confidence: share of the finished agents that ends it; > 1: never
    double         keep_percent       = 90.0;  // confidence: keep the top eta% (90: DeepConf-high, 10: -low)
    bool           trace_stop         = false; // confidence: also stop later agents whose window falls under the warm-up's threshold
    double         stop_threshold     = NAN;   // confidence: a fixed trace-stop threshold instead of the warm-up's (implies trace_stop)
    int32_t        synth_answer_chars = 400;   // synthesize: each agent's answer is cut to this
    answer_options answer;                     // how to read final answers (json field, ...)

    // orchestrate
    int32_t max_subtasks = 4;

    void validate() const;
};

enum agent_status {
    AGENT_STATUS_RUNNING,
    AGENT_STATUS_DONE,           // ended by itself
    AGENT_STATUS_LENGTH,         // hit max_tokens
    AGENT_STATUS_STOPPED_EARLY,  // confidence fell under the threshold
    AGENT_STATUS_BUDGET,         // the total token budget ran out
    AGENT_STATUS_CANCELLED,
    AGENT_STATUS_SKIPPED,        // never started: the agents before it already agreed
};
const char * agent_status_name(agent_status s);

struct agent_report {
    int          index       = 0;
    std::string  role;          // "agent", "planner", "sub-agent: <title>", "merger", "synthesis"
    agent_status status      = AGENT_STATUS_RUNNING;
    uint32_t     seed        = 0;
    float        temperature = 0;
    int          reasoning_tokens = 0;
    int          answer_tokens    = 0;
    double       mean_confidence   = 0;
    double       lowest_confidence = 0;  // lowest window mean
    std::string  content;        // the answer text
    std::string  reasoning;
    answer       extracted;
    bool         stopped_early = false;
    bool         kept          = true;  // confidence aggregation: among the top eta%
};

struct reason_result {
    std::string                 content;     // the final answer
    std::string                 reasoning;   // single-pass modes
    std::vector<chat_tool_call> tool_calls;  // single-pass modes
    answer                      final_answer;
    double                      agreement = 0.0;  // agents that gave the final answer / agents with an answer
    std::vector<agent_report>   agents;      // contemplate / orchestrate, plus planner/merger/synthesis passes
    std::vector<std::string>    plan;        // orchestrate: sub-task titles
    int                         prompt_tokens    = 0;  // decoded once, shared by every agent
    int                         reasoning_tokens = 0;  // all passes
    int                         answer_tokens    = 0;
    double                      ttft_secs        = 0;  // first token of any agent
    double                      wall_secs        = 0;
    bool                        cancelled        = false;
    finish_reason               finish           = FINISH_REASON_NONE;  // single-pass modes: how the pass ended
};

// Live progress: which agent produced which token (for lanes on a terminal or SSE events).
struct agent_progress {
    int                 agent;   // index in reason_result::agents order; -1 for single-pass modes
    const token_event * event;
    bool                in_reasoning;
};
using progress_fn = std::function<void(const agent_progress &)>;

// Runs `request` in `params.mode`. The session must have room for agents + 2 sequences.
reason_result reason_run(session & s, const chat_request & request, const std::vector<media> & media,
                         const reason_params & params, const progress_fn & on_progress = {},
                         const std::atomic<bool> * cancel = nullptr);

}  // namespace muse::reason
