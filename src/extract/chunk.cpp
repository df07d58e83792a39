#include "extract/chunk.h"

#include <algorithm>

namespace muse::extract {

namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The last position in (lo, hi] that is a break of the given kind, or 0.
size_t break_before(const std::string & t, size_t lo, size_t hi) {
    auto find_last = [&](const char * pattern, size_t len) -> size_t {
        if (hi < lo + len) return 0;
        const size_t at = t.rfind(pattern, hi - len);
        return at != std::string::npos && at > lo ? at + len : 0;
    };
    if (size_t b = find_last("\n\n", 2)) return b;
    if (size_t b = find_last("\n", 1)) return b;
    for (const char * s : { ". ", "? ", "! ", "; " }) {
        if (size_t b = find_last(s, 2)) return b;
    }
    if (size_t b = find_last(" ", 1)) return b;
    return 0;
}

bool blank(const std::string & t, size_t a, size_t b) {
    for (size_t i = a; i < b; ++i) {
        const unsigned char c = t[i];
        if (c != ' ' && c != '\n' && c != '\t' && c != '\r' && c != '\f' && c != '\v') return false;
    }
    return true;
}

}  // namespace

std::vector<chunk_span> chunk_text(const std::string & text, const chunk_limits & limits) {
    const size_t max_bytes = std::max<size_t>(limits.max_bytes, 16);
    const size_t overlap   = std::min(limits.overlap, max_bytes / 2 - 1);
    std::vector<chunk_span> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.size();
        if (end - start > max_bytes) {
            const size_t hard = start + max_bytes;
            // A break in the second half of the window keeps chunks from getting tiny.
            size_t b = break_before(text, start + max_bytes / 2, hard);
            end      = b ? b : hard;
            while (end > start + 1 && end < text.size() && is_continuation((unsigned char) text[end])) --end;
        }
        if (!blank(text, start, end)) out.push_back({ start, end, text.substr(start, end - start) });
        if (end >= text.size()) break;
        size_t next = end > start + overlap ? end - overlap : end;
        if (next <= start) next = end;
        // Start the overlap at a word: after the first space in it, when there is one.
        const size_t sp = text.find(' ', next);
        if (sp != std::string::npos && sp + 1 < end) next = sp + 1;
        while (next < text.size() && is_continuation((unsigned char) text[next])) ++next;
        start = next;
    }
    return out;
}

}  // namespace muse::extract
