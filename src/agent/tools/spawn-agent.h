#pragma once
// spawn_agent: the model hands independent parts of its work to sub-agents that run at the
// same time (in muse serve each is its own request in the scheduler's batch) and reads their
// answers. A sub-agent sees its task only, and has no tools of its own.
#include "agent/tool.h"
#include "reason/orchestrate.h"

#include <functional>

namespace muse::agent {

// Runs one sub-agent on `task` and returns its answer; throws on failure (the tool reports it).
using subagent_fn = std::function<std::string(const reason::subtask & task, const tool_context & ctx)>;

struct spawn_agent_limits {
    int    max_tasks    = 8;
    size_t answer_chars = 4000;  // of each answer, what the calling model reads
};

tool_ptr spawn_agent_tool(subagent_fn run, spawn_agent_limits limits = {});

// The chat request a sub-agent runs: a short system prompt and its task.
chat_request subagent_request(const reason::subtask & task);

}  // namespace muse::agent
