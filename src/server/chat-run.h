#pragma once
// One chat call on its way through the scheduler, shared by both wire formats: formats the
// prompt, submits the job, and turns the job's events into per-choice deltas (reasoning and
// answer text as the parser sees them) and per-agent progress.
#include "server/server-state.h"

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

namespace muse::server {

struct chat_run {
    std::shared_ptr<const chat_prompt> prompt;
    std::shared_ptr<job>               j;
    std::vector<choice_tracker>        choices;
    std::vector<int>                   agent_tokens;  // reasoning modes: tokens per agent so far
    bool                               reasoning_mode = false;
    clock_type::time_point             t0;
    // OpenAI logprobs (-1: not asked for): each choice's token entries not yet taken.
    int                                        top_logprobs = -1;
    const model *                              mdl          = nullptr;
    std::vector<std::vector<nlohmann::json>>   logprobs;
};

struct chat_run_sink {
    std::function<void(int choice, const choice_tracker::delta & d)>          delta;
    // Every 16 tokens of an agent and when it finishes.
    std::function<void(int agent, int tokens, bool in_reasoning, bool finished)> progress;
};

// The call's prompt (422 when the template or the schema cannot render it; `messages_param`
// names the messages in the error, "tools" when there are tools).
chat_prompt chat_call_render(server_state & st, const chat_call & call, const std::string & messages_param = "messages");

// How many tokens the call's prompt holds, media included, without running it (422 as above,
// and when its media do not fit the prompt): count_tokens and responses/input_tokens.
int32_t chat_call_prompt_tokens(server_state & st, const chat_call & call, const std::string & messages_param);

// Renders the prompt (422 when the template or the schema cannot), submits (429 when the
// queue is full) and waits until the job runs (422 when the prompt does not fit the context).
// `owner` (the caller) and `cache_tag` (its conversation, if any) scope the prefix cache.
std::shared_ptr<chat_run> chat_run_start(server_state & st, chat_call & call, const std::string & owner,
                                         const std::string & cache_tag = "");

// Delivers what arrived within `wait`. Returns false once the job is done and all of it was
// delivered.
bool chat_run_pump(chat_run & run, const chat_run_sink & sink, std::chrono::milliseconds wait);

// After the job is done: throws its failure (500 / 422), records metrics.
void chat_run_finish(server_state & st, chat_run & run);

// The OpenAI `logprobs` object of choice i's tokens not yet taken ({"content": [...],
// "refusal": null}); null when the call did not ask for logprobs.
nlohmann::json chat_run_logprobs_take(chat_run & run, size_t i);

int chat_run_completion_tokens(const chat_run & run);
int chat_run_reasoning_tokens(chat_run & run);

// The reasoning modes' per-agent report, as the `muse` object of a response.
nlohmann::json reason_result_json(const reason::reason_result & r, reason::reason_mode mode);

}  // namespace muse::server
