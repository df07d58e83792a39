#pragma once
// file_search: the model searches the calling user's own uploaded files and past
// conversations (the store's BM25 + vector search, fused) and gets cited snippets: file or
// conversation id, filename or title, the byte span, a snippet around the words it asked for.
// Never another user's: the store answers for tool_context.user_id only.
#include <functional>
#include <string>
#include <vector>

#include "agent/tool.h"
#include "store/database.h"

namespace muse::agent {

// Texts to embedding vectors, one per text, all of one dims (the server's embedding model).
// It may throw: the tools then work without vectors.
using embed_fn = std::function<std::vector<std::vector<float>>(const std::vector<std::string> &)>;

struct file_search_limits {
    size_t max_results   = 20;   // the most the model may ask for
    size_t default_results = 6;
    size_t snippet_bytes = 320;  // per hit
    size_t max_text      = 12000;  // the whole answer the model reads
};

// `db` outlives the tool. `embed` null: words only (BM25).
tool_ptr file_search_tool(store::database & db, embed_fn embed = nullptr, file_search_limits limits = {});

// The part of `text` around the first of the query's words it holds (whole text when it is
// short), at most `max_bytes`, cut between UTF-8 characters, whitespace runs made one space,
// with "…" where it was cut.
std::string search_snippet(const std::string & text, const std::string & query, size_t max_bytes);

}  // namespace muse::agent
