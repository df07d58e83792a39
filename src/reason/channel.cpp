#include "reason/channel.h"

namespace muse::reason {

channel_tracker::channel_tracker(const chat_prompt & prompt) : start_(prompt.thinking_start()) {
    if (!prompt.thinking_end().empty()) {
        end_ = prompt.thinking_end().front();
    }
    // The generation prompt may already have opened the reasoning block ("<think>\n").
    const std::string & gen = prompt.generation_prompt();
    if (!start_.empty() && !end_.empty()) {
        const size_t s = gen.rfind(start_);
        in_reasoning_  = s != std::string::npos && gen.find(end_, s) == std::string::npos;
    }
}

void channel_tracker::push(const std::string & text) {
    // A token counts in the channel it started in; a tag flips the channel for the next one.
    (in_reasoning_ ? n_reasoning_ : n_answer_)++;
    if (start_.empty() || end_.empty()) {
        return;
    }
    tail_ += text;
    const std::string & tag = in_reasoning_ ? end_ : start_;
    const size_t        at  = tail_.find(tag);
    if (at != std::string::npos) {
        in_reasoning_ = !in_reasoning_;
        tail_.erase(0, at + tag.size());
    }
    const size_t keep = std::max(start_.size(), end_.size());
    if (tail_.size() > keep) {
        tail_.erase(0, tail_.size() - keep);
    }
}

}  // namespace muse::reason
