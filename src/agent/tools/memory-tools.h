#pragma once
// remember / forget: the model keeps a short fact about the calling user for later
// conversations, or drops one (by the id the user's memory shows). Both answer is_error when
// the user has turned memory off, so the model tells the user instead of pretending.
#include "agent/tool.h"
#include "agent/tools/file-search.h"  // embed_fn
#include "store/database.h"

namespace muse::agent {

struct memory_tool_limits {
    size_t max_bytes = 1000;  // one memory item: a fact, not a document
};

// `db` outlives the tools. `embed` null: items are stored without a vector (found by words).
tool_ptr remember_tool(store::database & db, embed_fn embed = nullptr, memory_tool_limits limits = {});
tool_ptr forget_tool(store::database & db);

}  // namespace muse::agent
