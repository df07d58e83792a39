#pragma once
// Caps a text for a model or a wire: at most `max` bytes, never cutting a UTF-8 character,
// with a note saying how much there was.
#include <string>

namespace muse::agent {

// The longest prefix of `text` of at most `max` bytes that ends between UTF-8 characters.
inline size_t utf8_cut(const std::string & text, size_t max) {
    if (text.size() <= max) return text.size();
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return cut;
}

// The first `n` characters (code points) of UTF-8 `text`: what JSON Schema's maxLength counts.
inline std::string utf8_first_chars(const std::string & text, size_t n) {
    size_t end = 0;
    for (size_t chars = 0; end < text.size() && chars < n; ++chars) {
        ++end;
        while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    }
    return text.substr(0, end);
}

inline std::string text_cap(const std::string & text, size_t max) {
    if (text.size() <= max) return text;
    const size_t cut = utf8_cut(text, max);
    return text.substr(0, cut) + "\n[truncated: " + std::to_string(text.size()) + " bytes in all, " +
           std::to_string(cut) + " shown]";
}

}  // namespace muse::agent
