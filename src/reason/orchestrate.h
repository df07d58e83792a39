#pragma once
// Sub-agents: the pieces of orchestrate that a tool loop calls directly (spawn_agent).
#include "reason/modes.h"

#include <string>
#include <vector>

namespace muse::reason {

struct subtask {
    std::string title;
    std::string instruction;
};

// The JSON schema the planner's answer is constrained to: {"subtasks":[{title, instruction}]}.
std::string plan_schema(int max_subtasks);
// The sub-tasks in a plan (at most `max_subtasks`); empty when the text holds no valid plan.
std::vector<subtask> plan_parse(const std::string & text, int max_subtasks);

// Runs one sub-agent per task, each forked from `root` (a parked, prefilled conversation)
// with its task appended, all batched together.
std::vector<agent_report> subagents_run(session & s, seq_handle root, const chat_request & request,
                                        const std::vector<media> & media, const std::vector<subtask> & tasks,
                                        const reason_params & params, const progress_fn & on_progress,
                                        const std::atomic<bool> * cancel, int first_index = 0);

// The function definition of spawn_agent for a tool loop: {"tasks":[{title, instruction}]}.
chat_tool spawn_agent_tool();

}  // namespace muse::reason
