#pragma once
// One chat call, whichever wire format it came in (OpenAI chat completions or Anthropic
// messages): what to render, the media, how to sample, how many choices, which mode.
#include "agent/image-set.h"
#include "agent/loop.h"
#include "engine/chat-prompt.h"
#include "engine/media.h"
#include "engine/session.h"
#include "reason/channel.h"
#include "reason/modes.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace muse {
class model;
}

namespace muse::server {

struct server_limits {
    size_t       max_body_bytes = 32u << 20;
    int32_t      max_tokens     = 4096;   // per request (and the default when none is given)
    int32_t      max_messages   = 1024;
    double       timeout_secs   = 600;    // per request
    media_limits media{ 32u << 20, 16'777'216, 600.0 };
    // A model without an image projector takes the request's images for its tools only
    // (read_text reads them): each becomes a text note with its number instead of a 422.
    bool         images_for_tools = false;
};

struct chat_call {
    chat_request          request;
    // Shared, so that a call copies cheaply (the agent loop runs one call per step); read-only
    // once the request is parsed.
    std::shared_ptr<std::vector<muse::media>> media = std::make_shared<std::vector<muse::media>>();
    // The request's images as sent, numbered from 1 in order: what the seeing tools work on.
    std::shared_ptr<agent::image_set> images = std::make_shared<agent::image_set>();
    sequence_params       params;
    int                   n             = 1;
    bool                  stream        = false;
    bool                  include_usage = false;
    int                   top_logprobs  = -1;  // OpenAI logprobs: -1 off, else alternatives per token (0-20)
    bool                  reasoning_mode = false;  // contemplate / orchestrate: runs through reason_run
    reason::reason_params reason;
    std::string           conversation_id;
    double                timeout_secs = 0;
    nlohmann::json        new_messages = nlohmann::json::array();  // the request's messages, as stored
};

// Returns a stored file's bytes for the caller, nullopt when it is not theirs.
using file_reader = std::function<std::optional<std::string>(const std::string & file_id)>;

// Reads a media payload (bytes already base64-decoded) into `call.media` (an image also into
// `call.images`); limits → 413.
size_t media_add(chat_call & call, const model & mdl, std::string bytes, const std::string & origin,
                 const server_limits & limits);

// An image for the tools only (limits.images_for_tools on a model that cannot see): checked,
// added to `call.images`; returns the text that stands in the message for it.
std::string image_add_for_tools(chat_call & call, std::string bytes, const std::string & origin,
                                const server_limits & limits);

// Keeps only the tool named `name` and requires a call of it (both wire formats' forced choice).
void tool_choice_force(chat_call & call, const std::string & name, const std::string & param);

std::string base64_decode(const std::string & in, const std::string & param);
std::string base64_encode(const std::string & bytes);

// The generated text of one choice, parsed as it grows into reasoning and answer deltas.
class choice_tracker {
  public:
    explicit choice_tracker(const chat_prompt & prompt) : prompt_(&prompt), channel_(prompt) {}

    // A tool call as it is generated: its first delta has the name (and the model's id, if
    // any), later ones more of its arguments' JSON text (the agent loop's own delta).
    using tool_call_delta = agent::call_delta;
    struct delta {
        std::string                  reasoning;
        std::string                  content;
        std::vector<tool_call_delta> tool_calls;
        bool empty() const { return reasoning.empty() && content.empty() && tool_calls.empty(); }
    };
    void  push(const std::string & text);   // one token's text
    delta take();                           // what became visible since the last take
    const chat_parsed & final_parse();      // once finished: reasoning, content, tool calls

    bool          finished = false;
    finish_reason reason   = FINISH_REASON_NONE;
    int           reasoning_tokens() const { return channel_.reasoning_tokens(); }
    const std::string & raw() const { return raw_; }

  private:
    const chat_prompt *     prompt_;
    reason::channel_tracker channel_;
    std::string             raw_;
    bool                    dirty_ = false;
    size_t                  sent_reasoning_ = 0, sent_content_ = 0;
    std::string             shown_reasoning_, shown_content_;
    std::vector<std::string> sent_arguments_;  // per tool call begun: the arguments sent
    std::optional<chat_parsed> final_;
};

}  // namespace muse::server
