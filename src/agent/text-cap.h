#pragma once
// Caps a text for a model or a wire: at most `max` bytes, never cutting a UTF-8 character,
// with a note saying how much there was.
#include <string>

namespace muse::agent {

inline std::string text_cap(const std::string & text, size_t max) {
    if (text.size() <= max) return text;
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return text.substr(0, cut) + "\n[truncated: " + std::to_string(text.size()) + " bytes in all, " +
           std::to_string(cut) + " shown]";
}

}  // namespace muse::agent
