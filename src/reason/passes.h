#pragma once
// Reason-internal: the multi-agent modes and what they share.
#include "reason/modes.h"

#include <chrono>

namespace muse::reason {

using clock_point = std::chrono::steady_clock::time_point;
double          secs_since(clock_point t0);
sequence_params pass_params(const reason_params & p, const sampling_params & sampling);

reason_result contemplate_run(session & s, const chat_request & request, const std::vector<media> & media,
                              const reason_params & params, const progress_fn & on_progress,
                              const std::atomic<bool> * cancel);
reason_result orchestrate_run(session & s, const chat_request & request, const std::vector<media> & media,
                              const reason_params & params, const progress_fn & on_progress,
                              const std::atomic<bool> * cancel);

}  // namespace muse::reason
