#pragma once
// `muse eval`: each mode of a list answers every item of a suite (optionally K times), and
// the answers are checked. A mode is written NAME[:ARGS][+tools]:
//   instant                   reasoning off
//   thinking[:BUDGET]         reasoning within BUDGET tokens (none: unlimited)
//   contemplate:N[:AGG]       N agents, AGG vote (default), confidence or synthesize
//   contemplate:N:confidence:ETA   confidence keeping the top ETA% of traces (90: DeepConf-high, the
//                             default; 10: DeepConf-low, which stops more agents early)
//   ...+tools                 the single-pass modes through the agent loop with the tools given
#include "agent/loop.h"
#include "eval/suite.h"
#include "reason/modes.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace muse {
class model;
class session;
}  // namespace muse

namespace muse::eval {

struct eval_mode {
    std::string          label;  // as written
    reason::reason_params reason;
    bool                 tools = false;
};

// Throws input_error naming the mode and the valid forms.
eval_mode eval_mode_parse(const std::string & spec);
// A comma-separated list of modes (empty items skipped); throws input_error for an empty list.
std::vector<eval_mode> eval_modes_parse(const std::string & list);

struct eval_options {
    std::vector<eval_mode> modes;
    int                    repeat      = 1;
    int32_t                max_tokens  = 512;   // per agent / per pass
    float                  temperature = 0.7f;
    uint32_t               seed        = 1;
    std::vector<agent::tool_ptr> tools;      // for the +tools modes
    agent::tool_context    tool_context;      // their work dir
    int                    max_steps   = 4;     // agent loop steps of a +tools mode
};

struct item_outcome {
    std::string item_id;
    int         repeat = 0;
    bool        correct = false;
    std::string got;       // what the checker read
    std::string content;   // the answer text
    int         reasoning_tokens = 0;
    int         answer_tokens    = 0;
    int         tool_calls       = 0;
    double      secs             = 0;
    double      agreement        = 0;  // contemplate
};

struct mode_report {
    std::string               label;
    std::vector<item_outcome> outcomes;
    int                       n = 0, correct = 0;
    double accuracy = 0, ci_low = 0, ci_high = 0;  // Wilson 95%
    double reasoning_tokens = 0, answer_tokens = 0;  // means per item
    double latency_p50 = 0, latency_p90 = 0;         // seconds per item
    double tokens_per_s = 0;                         // generated tokens / wall time
};

struct eval_progress {
    size_t      done = 0, total = 0;
    std::string mode;
    int         correct = 0, answered = 0;  // in this mode so far
};
using eval_progress_fn = std::function<void(const eval_progress &)>;

// The session needs room for the largest contemplation (agents + 2 sequences).
std::vector<mode_report> eval_run(session & s, const model & mdl, const std::vector<eval_item> & items,
                                  const eval_options & options, const eval_progress_fn & on_progress = {},
                                  const std::atomic<bool> * cancel = nullptr);

// Wilson score interval at 95% for k of n.
void wilson_interval(int k, int n, double & low, double & high);

}  // namespace muse::eval
