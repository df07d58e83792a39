#pragma once
// A user's file made searchable: its text taken out by kind (PDF through poppler, an image
// through tesseract, HTML through gumbo, text and Markdown as they are), cut into chunks, each
// chunk embedded when an embedding model is loaded, and stored for file_search. Used by the
// server when a file is uploaded and by `muse run --files`.
#include "agent/tools/file-search.h"

#include <cstdint>
#include <string>

namespace muse::store {
class database;
struct file_record;
}  // namespace muse::store

namespace muse::agent {

struct file_text {
    std::string kind;  // "pdf", "image", "html", "text", or "binary" (nothing to index)
    std::string text;
    std::string note;  // why there is no text, or what a limit left out ("" when none)
};

// The text of `bytes` (named `filename`); never throws for what the bytes are: a damaged PDF
// or an unreadable image gives no text and a note saying why.
file_text file_text_extract(const std::string & bytes, const std::string & filename);

struct file_index_result {
    file_text extracted;
    size_t    chunks  = 0;
    bool      vectors = false;  // the chunks were embedded
};

// Chunks, embeds (`embed` null or failing: words only) and stores the chunks of the user's file
// `f` from its `extracted` text (file_text_extract: the caller may have read it already, e.g.
// for the safety policy), replacing any it had.
file_index_result file_index(store::database & db, int64_t user_id, const store::file_record & f,
                             file_text extracted, const embed_fn & embed);

}  // namespace muse::agent
