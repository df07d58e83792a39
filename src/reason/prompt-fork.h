#pragma once
// Passes that extend a shared conversation (a perspective hint, a synthesis request, a
// sub-task) reuse its decoded prefix: the new prompt is rendered by the template, and the
// child sequence takes the longest common token prefix from the parked root.
#include "engine/chat-prompt.h"
#include "engine/media.h"
#include "engine/model.h"
#include "engine/session.h"

#include <string>
#include <vector>

namespace muse::reason {

// `request` with `suffix` appended to its last user message (a new user message if the
// conversation does not end with one).
chat_request request_with_suffix(const chat_request & request, const std::string & suffix);

// A sequence for `prompt`, sharing what it can of `root`'s cells. Media prompts whose shared
// part ends before their last image fall back to a fresh sequence with `media`.
seq_handle fork_for_prompt(session & s, seq_handle root, const chat_prompt & prompt, const std::vector<media> & media,
                           const sequence_params & params);

}  // namespace muse::reason
