#pragma once
// The last prompt of a conversation, kept in the session so that the next turn decodes only
// what it adds: the new messages, and the previous reply where the template renders it
// otherwise than it was generated (e.g. without its reasoning).
#include "engine/chat-prompt.h"
#include "engine/media.h"
#include "engine/session.h"

#include <vector>

namespace muse::reason {

class prompt_cache {
  public:
    explicit prompt_cache(session & s) : s_(s) {}
    ~prompt_cache();
    prompt_cache(const prompt_cache &)             = delete;
    prompt_cache & operator=(const prompt_cache &) = delete;

    // A sequence for `prompt` sharing the kept prompt's common prefix (nothing kept, media in
    // it, or its cells gone from a sliding window: a fresh sequence).
    seq_handle sequence_add(const chat_prompt & prompt, const std::vector<media> & media, const sequence_params & params);
    // After `seq`'s prefill: keeps its prompt in place of the one kept before. Holds one
    // sequence slot and no cells of its own while `seq` runs.
    void keep(seq_handle seq);
    // Frees the kept prompt.
    void clear();

  private:
    session &  s_;
    seq_handle kept_ = -1;
};

}  // namespace muse::reason
