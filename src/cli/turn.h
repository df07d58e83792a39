#pragma once
// One assistant turn on the command line: prefill, stream, split reasoning from the answer.
#include "cli/terminal.h"
#include "engine/chat-prompt.h"
#include "engine/media.h"
#include "engine/session.h"
#include "engine/prefix-cache.h"
#include "safety/checker.h"

#include <atomic>
#include <vector>

namespace muse::cli {

struct turn_result {
    chat_parsed    parsed;
    std::string    raw;          // the generated text as the model wrote it
    sequence_stats stats;
    double         prefill_secs = 0;
    double         decode_secs  = 0;
    double         ttft_secs    = 0;  // from the start to the first generated token
    int32_t        reasoning_tokens = 0;  // in the template's reasoning channel
    safety::verdict stopped;               // the policy's verdict that stopped the answer, if one did
};

// What every mode's summary line says (`--stats`, and on a terminal), in one format:
// "thinking | prompt 12 tok (+5 reused) 85.1 tok/s | reasoning 3 tok | answer 40 tok 30.2 tok/s |
//  first token 0.14 s | wall 1.52 s | stop | seed 42"
struct run_summary {
    std::string mode;              // "" for none
    int32_t     prompt_tokens    = 0;
    int32_t     reused_tokens    = 0;
    bool        prompt_shared    = false;  // one prompt decoded once for several agents
    double      prefill_secs     = 0;
    int32_t     reasoning_tokens = 0;
    int32_t     answer_tokens    = 0;
    double      decode_secs      = 0;
    double      ttft_secs        = 0;
    double      wall_secs        = 0;
    std::string finish;            // "stop", "length", "cancelled", ... ("" for none)
    double      agreement        = -1;  // several agents: the share that gave the final answer
    int64_t     seed             = -1;  // -1: not shown
};
std::string summary_line(const run_summary & s);

// `prompt` null: raw completion of `raw_prompt` without a chat template. With `cache`, the
// prompt starts from what it shares with the previous turn's cells, and the turn's cells are
// kept for the next. With `policy`, the answer is checked as it streams: a verdict that blocks
// ends the turn before the text that tipped it is printed (`stopped`).
turn_result turn_run(session & s, const chat_prompt * prompt, const std::string & raw_prompt,
                     const std::vector<media> & media, const sequence_params & sp, answer_printer * out,
                     const std::atomic<bool> * cancel, prefix_cache * cache = nullptr,
                     const safety::checker * policy = nullptr);

// A turn's summary line (summary_line's format).
std::string turn_summary(const turn_result & r, const std::string & mode = "", int64_t seed = -1);

}  // namespace muse::cli
