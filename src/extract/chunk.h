#pragma once
// Cuts a document's text into overlapping spans for the search index: each chunk ends at the
// best break before its size limit (a blank line, then a line end, a sentence end, a space),
// never inside a UTF-8 sequence, and the next one starts `overlap` bytes back so a passage
// split between two chunks is still found whole in one of them.
#include <cstddef>
#include <string>
#include <vector>

namespace muse::extract {

struct chunk_span {
    size_t      start = 0;  // byte offsets into the document's text: [start, end)
    size_t      end   = 0;
    std::string text;
};

struct chunk_limits {
    size_t max_bytes = 1200;
    size_t overlap   = 200;  // < max_bytes / 2
};

// Whitespace-only text gives no chunks.
std::vector<chunk_span> chunk_text(const std::string & text, const chunk_limits & limits = {});

}  // namespace muse::extract
