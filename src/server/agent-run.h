#pragma once
// The agent loop inside muse serve: which server-side tools the operator allows and a request
// may use, a loop step as a scheduler job (so an agent's steps and its sub-agents batch with
// every other request), artifacts in the store, and one audit record per tool call.
#include "agent/loop.h"
#include "agent/tools/artifacts.h"
#include "agent/tools/file-search.h"
#include "server/server-state.h"

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace muse::server {

// What one agent run uses: the caller, its workspace (a conversation or a response chain:
// the files at /mnt/data and the artifacts) and the loop's cancel flag.
struct agent_scope {
    caller            who;
    std::string       workspace;
    std::atomic<bool> cancel{ false };
    std::shared_ptr<agent::image_set> images;  // the request's images, once it is parsed (the seeing tools' bound)
};

// The parse limits of an agent request: with the vision tools, a model that cannot see takes
// the request's images for the tools (server_limits::images_for_tools).
server_limits agent_parse_limits(const server_state & st, const std::vector<std::string> & names);

// The server's embedding model as the tools' embed_fn (nullptr when none is loaded).
agent::embed_fn agent_embed_fn(server_state & st);

// The artifacts tools' store in muse serve: the database's artifacts, scoped by the call's user
// and conversation.
std::shared_ptr<agent::artifact_store> artifact_store_in(store::database & db);

// The tools named in `names` (each one the operator enabled with `muse serve --tools`; 400
// naming `param` otherwise).
std::vector<agent::tool_ptr> agent_tools_select(server_state & st, const std::shared_ptr<agent_scope> & scope,
                                                const std::vector<std::string> & names, const std::string & param);

// The tools as OpenAI function tools ({"type": "function", "function": {...}}), appended to
// `body["tools"]` (made an array when absent), so that the body's tool_choice can name them.
void agent_tools_add_to_body(nlohmann::json & body, const std::vector<agent::tool_ptr> & tools);

// A loop step: `base` (sampling, media, limits) with the step's request, run as a job.
agent::generate_fn agent_generate(server_state & st, const chat_call & base, const std::shared_ptr<agent_scope> & scope,
                                  agent::step_output * usage_sum = nullptr);

// The loop's parameters for a request: the server's limits, the scope's context and cancel.
agent::loop_params agent_loop_params(server_state & st, const std::shared_ptr<agent_scope> & scope,
                                     std::vector<agent::tool_ptr> tools);

// muse.mode contemplate with tools: call.reason.agents loops at once (seed + i, the temperature
// spread), each step a job; returns the winner's outcome (tokens summed over the agents) and
// sets `report` ({"mode", "agreement", "winner", "agents": [...]}). Of `ev`, the call events
// are passed on, one at a time, each call's step as 1000 × agent + step.
agent::loop_outcome agent_contemplate(server_state & st, const chat_call & call, const agent::loop_params & params,
                                      const std::shared_ptr<agent_scope> & scope, const agent::loop_events & ev,
                                      nlohmann::json & report);

// Makes the images tool calls return media of `call` (a model with a projector only; nothing
// otherwise): the loop shows them to the model in its next step.
void agent_images_to_media(server_state & st, agent::loop_params & params, const chat_call & call);

// Writes the audit record of a finished call: user, workspace, tool, a digest of the
// arguments, duration, outcome.
void agent_audit(server_state & st, const agent_scope & scope, const agent::call_record & r);

// Each step's tokens: [{"prompt_tokens", "completion_tokens"}].
nlohmann::json agent_step_usage_json(const agent::loop_outcome & o);

// A finished call as JSON for the APIs' step lists: name, arguments, outcome, the output text,
// images (base64) and files, and the tool's detail.
nlohmann::json agent_call_json(const agent::call_record & r);

}  // namespace muse::server
