#pragma once
// One turn of `muse run` with server-side tools: the agent loop on the CLI's session, each
// call, its output, its images and files, and each artifact said as it happens.
#include "cli/agent-tools.h"
#include "cli/options.h"
#include "engine/media.h"
#include "engine/session.h"

#include <atomic>

namespace muse::cli {

struct agent_turn_result {
    agent::loop_outcome outcome;
    std::filesystem::path workdir;
};

// `request` already holds the conversation and the generation options; `forced_tool` names a
// tool the first step must call. Tools are built from `o` (started here).
agent_turn_result agent_turn_run(session & s, const model & mdl, chat_request request, const std::vector<media> & media,
                                 const sequence_params & sp, const agent_options & o, const std::string & forced_tool,
                                 const std::atomic<bool> * cancel);

}  // namespace muse::cli
