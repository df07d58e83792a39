#pragma once
// The agent loop: generate → parse tool calls (llama-common's parsers, through chat_parse) →
// run the calls of that step concurrently → append the results in the template's tool-result
// form → generate again, until the model answers without a call, calls a tool the caller runs
// itself (a client-side function), or a budget ends it: steps, generated tokens, wall time.
//
// The loop does not know how a step is generated: the CLI runs it on its session, the server
// through the scheduler (where a step's sequences batch with every other request). It does not
// know where calls are recorded either: `on_audit` gets one record per call.
//
// What goes wrong in a call never ends the loop by itself: invalid JSON arguments, an unknown
// tool, a tool that fails, throws, hangs past its timeout or returns too much each become a
// short error result the model reads, and the loop goes on.
#include "agent/tool.h"
#include "engine/chat-prompt.h"
#include "engine/session.h"

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace muse::agent {

// A tool call as it is generated: its first piece has the name, later ones more arguments.
struct call_delta {
    size_t      index = 0;
    bool        first = false;
    std::string id;
    std::string name;
    std::string arguments;
};

// What one generation step streams as it goes.
struct step_stream {
    std::function<void(const std::string & reasoning, const std::string & content)> text;
    std::function<void(const call_delta & d)>                                     call;
};

struct step_output {
    chat_parsed   parsed;
    finish_reason finish = FINISH_REASON_NONE;
    int32_t       prompt_tokens     = 0;
    int32_t       completion_tokens = 0;
    int32_t       reasoning_tokens  = 0;
};

// Generates one assistant turn for `request`. Throws what the generation throws (the loop
// lets it through: a decode failure or a refused prompt is the caller's error to report).
using generate_fn = std::function<step_output(const chat_request & request, const step_stream & stream)>;

struct loop_limits {
    int     max_steps        = 8;      // generations; the last one may not call tools
    int32_t max_tokens       = 16384;  // generated over all steps; 0: none
    double  wall_secs        = 600;    // the whole loop; 0: none
    double  tool_secs        = 60;     // one call
    size_t  max_result_chars = 16384;  // what the model reads of one result
    int     max_parallel     = 8;      // calls of one step run together
    // Strings in the loop's tools' arguments without a maxLength get this one (0: none): an
    // operator's bound on what one call may carry.
    int     max_argument_chars = 0;
};

enum call_outcome {
    CALL_OUTCOME_OK,
    CALL_OUTCOME_TOOL_ERROR,     // the tool ran and reported an error
    CALL_OUTCOME_BAD_ARGUMENTS,  // not a JSON object
    CALL_OUTCOME_UNKNOWN_TOOL,
    CALL_OUTCOME_TIMEOUT,
    CALL_OUTCOME_CANCELLED,
    CALL_OUTCOME_FAILED,         // the tool threw
    CALL_OUTCOME_REFUSED,        // the safety policy kept it from running (loop_params::call_check)
};
const char * call_outcome_name(call_outcome o);

struct call_record {
    int            step = 0;
    chat_tool_call call;
    tool_result    result;
    call_outcome   outcome = CALL_OUTCOME_OK;
    double         secs    = 0;
};

struct loop_events {
    std::function<void(int step)>                          step_started;
    std::function<void(int step, const std::string & reasoning, const std::string & content)> text;
    std::function<void(int step, const call_delta & d)>    call_generated;
    std::function<void(int step, const chat_parsed & p)>   step_finished;  // its final parse (call ids filled in)
    std::function<void(int step, const chat_tool_call & c)> call_started;  // about to run
    std::function<void(const call_record & r)>             call_finished;  // output, error or timeout
    // Every 250 ms while calls run: a stream's keep-alive, which is also how it learns that
    // its client went away (the write fails and the caller sets the cancel flag).
    std::function<void()>                                  waiting;
};

enum loop_stop {
    LOOP_STOP_ANSWER,         // the model answered without calling a tool
    LOOP_STOP_CLIENT_CALLS,   // it called tools the caller runs (outcome.pending_calls)
    LOOP_STOP_MAX_STEPS,
    LOOP_STOP_TOKEN_BUDGET,
    LOOP_STOP_TIME_BUDGET,
    LOOP_STOP_LENGTH,         // the last step hit its max_tokens
    LOOP_STOP_CANCELLED,
};
const char * loop_stop_name(loop_stop s);

struct loop_outcome {
    loop_stop                   stop = LOOP_STOP_ANSWER;
    chat_parsed                 last;            // the last step: its reasoning, answer and calls
    std::vector<chat_tool_call> pending_calls;   // LOOP_STOP_CLIENT_CALLS: the caller's to run
    std::vector<chat_message>   messages;        // what the loop appended: assistant and tool messages
    std::vector<call_record>    calls;
    int                         steps = 0;
    int32_t                     prompt_tokens     = 0;  // summed over steps
    int32_t                     completion_tokens = 0;
    int32_t                     reasoning_tokens  = 0;
    finish_reason               last_finish = FINISH_REASON_NONE;
    struct step_tokens {
        int32_t prompt     = 0;
        int32_t completion = 0;
    };
    std::vector<step_tokens>    step_usage;  // per step
};

struct loop_params {
    std::vector<tool_ptr> tools;     // run by the loop; added to the request's tools
    loop_limits           limits;
    tool_context          context;   // user, conversation, work dir (deadline and cancel are the loop's)
    const std::atomic<bool> * cancel = nullptr;
    // The first step must call this tool (and sees only it); later steps see every tool.
    std::string           forced_tool;
    // Images the calls returned, for a model that sees: makes one the prompt's media (its index
    // among them), or nullopt when it cannot. Set, a step's images (at most max_images) follow
    // its tool messages as a user message, so the next step looks at them.
    std::function<std::optional<size_t>(const tool_image & image)> image_to_media;
    size_t                max_images = 4;
    // Before a call runs: a refusal text keeps it from running (CALL_OUTCOME_REFUSED, the text
    // its result). The safety policy's check of tool arguments and artifacts (agent/call-guard.h).
    std::function<std::optional<std::string>(const chat_tool_call & call)> call_check;
    // After a call finished: may rewrite what the model reads of it (a note in front of text that
    // looks like instructions to the model: prompt injection through a page or a file).
    std::function<void(call_record & record)> result_check;
};

// Runs the loop on `request` (its own tools stay client-side: a call of one ends the loop).
// The first step keeps the request's tool_choice (a forced call); later steps choose freely,
// and the last allowed step may not call tools.
loop_outcome loop_run(chat_request request, const loop_params & params, const generate_fn & generate,
                      const loop_events & events = {});

// The tool message the model reads for a finished call (capped to `max_chars`).
std::string call_result_text(const call_record & r, size_t max_chars);

}  // namespace muse::agent
