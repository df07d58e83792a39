#pragma once
// Which channel a generated token belongs to — reasoning or answer — from the template's
// reasoning tags, as the text streams in. Counts both (the numbers behind "thought
// compression": how much reasoning an answer took).
#include "engine/chat-prompt.h"

#include <string>

namespace muse::reason {

class channel_tracker {
  public:
    explicit channel_tracker(const chat_prompt & prompt);

    // Feeds the text a token produced (may be empty while text is held back).
    void push(const std::string & text);

    bool in_reasoning() const { return in_reasoning_; }
    int  reasoning_tokens() const { return n_reasoning_; }
    int  answer_tokens() const { return n_answer_; }

  private:
    std::string start_, end_;
    std::string tail_;  // recent text, to find tags split across tokens
    bool        in_reasoning_ = false;
    int         n_reasoning_  = 0;
    int         n_answer_     = 0;
};

}  // namespace muse::reason
