#pragma once
// Memory that is used: the user's memory items most relevant to a request (similarity to its
// last user message — by embedding when there is a model, else shared words — plus recency)
// go into the request's system prompt within a byte budget. Callers tell the user which items
// were used (the server's x-muse-memory header, the CLI's note), so none is used unseen.
#include "agent/tools/file-search.h"
#include "engine/chat-prompt.h"

#include <cstdint>
#include <vector>

namespace muse::store {
class database;
struct memory_item;
}  // namespace muse::store

namespace muse::agent {

struct memory_budget {
    size_t max_items = 8;
    size_t max_bytes = 2000;  // of the items' text
};

// Nothing when the user turned memory off or has none that fits. `embed` may be null.
std::vector<store::memory_item> memory_prompt_apply(store::database & db, int64_t user_id, chat_request & request,
                                                    const embed_fn & embed, const memory_budget & budget = {});

}  // namespace muse::agent
