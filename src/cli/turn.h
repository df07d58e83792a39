#pragma once
// One assistant turn on the command line: prefill, stream, split reasoning from the answer.
#include "cli/terminal.h"
#include "engine/chat-prompt.h"
#include "engine/media.h"
#include "engine/session.h"
#include "reason/prompt-cache.h"

#include <atomic>
#include <vector>

namespace muse::cli {

struct turn_result {
    chat_parsed    parsed;
    std::string    raw;          // the generated text as the model wrote it
    sequence_stats stats;
    double         prefill_secs = 0;
    double         decode_secs  = 0;
};

// `prompt` null: raw completion of `raw_prompt` without a chat template. With `cache`, the
// prompt shares what it can of the previous turn's, and is kept for the next.
turn_result turn_run(session & s, const chat_prompt * prompt, const std::string & raw_prompt,
                     const std::vector<media> & media, const sequence_params & sp, answer_printer * out,
                     const std::atomic<bool> * cancel, reason::prompt_cache * cache = nullptr);

// "prompt 12 tok 85.1 tok/s | answer 40 tok 30.2 tok/s | stop"
std::string turn_summary(const turn_result & r);

}  // namespace muse::cli
