#include "engine/utf8-guard.h"

#include <cmath>

namespace muse {

bool utf8_advance(utf8_state & st, const std::string & bytes) {
    for (unsigned char c : bytes) {
        if (st.need > 0) {
            if (c < st.lo || c > st.hi) return false;
            st.need--;
            st.lo = 0x80;
            st.hi = 0xBF;
            continue;
        }
        if (c < 0x80) continue;
        if (c >= 0xC2 && c <= 0xDF) { st = { 1, 0x80, 0xBF }; continue; }
        if (c == 0xE0) { st = { 2, 0xA0, 0xBF }; continue; }          // no overlongs
        if (c == 0xED) { st = { 2, 0x80, 0x9F }; continue; }          // no surrogates
        if (c >= 0xE1 && c <= 0xEF) { st = { 2, 0x80, 0xBF }; continue; }
        if (c == 0xF0) { st = { 3, 0x90, 0xBF }; continue; }
        if (c >= 0xF1 && c <= 0xF3) { st = { 3, 0x80, 0xBF }; continue; }
        if (c == 0xF4) { st = { 3, 0x80, 0x8F }; continue; }           // up to U+10FFFF
        return false;  // a stray continuation byte, C0, C1 or F5..FF
    }
    return true;
}

utf8_guard::utf8_guard(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {
    for (int32_t t = 0; t < (int32_t) pieces_.size(); ++t) {
        const std::string & p = pieces_[(size_t) t];
        utf8_state          st;
        if (!utf8_advance(st, p)) {
            bad_from_start_.push_back(t);
        }
        if (!p.empty() && ((unsigned char) p[0] & 0xC0) == 0x80) {
            continuations_.push_back(t);
        }
    }
}

void utf8_guard::apply(float * logits, const utf8_state & st) const {
    if (st.need == 0) {
        for (int32_t t : bad_from_start_) logits[t] = -INFINITY;
        return;
    }
    // A character is open: only tokens that continue it can follow.
    std::vector<char> ok(pieces_.size(), 0);
    for (int32_t t : continuations_) {
        utf8_state s = st;
        ok[(size_t) t] = utf8_advance(s, pieces_[(size_t) t]);
    }
    for (size_t t = 0; t < pieces_.size(); ++t) {
        if (!ok[t]) logits[t] = -INFINITY;
    }
}

}  // namespace muse
