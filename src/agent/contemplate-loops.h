#pragma once
// Contemplate with tools: several agents on one request, each running its own agent loop (its
// own calls, its own results), at the same time — in muse serve their steps are requests in
// one scheduler batch — and their final answers combined by vote (reason/answer.h).
#include "agent/loop.h"
#include "reason/answer.h"

#include <functional>
#include <vector>

namespace muse::agent {

struct contemplate_outcome {
    std::vector<loop_outcome> agents;
    size_t                    winner    = 0;  // the agent whose outcome answers
    double                    agreement = 0;  // the share of answering agents that gave its answer
    std::vector<reason::answer> answers;      // each agent's extracted answer
};

// `generate_for(i)` makes agent i's generation (its seed, its temperature). Events are agent i's
// own; they arrive from several threads at once.
contemplate_outcome contemplate_loops(const chat_request & request, const loop_params & params, int agents,
                                      const std::function<generate_fn(int agent)> & generate_for,
                                      const std::function<loop_events(int agent)> & events_for = {},
                                      const reason::answer_options & answer = {});

}  // namespace muse::agent
