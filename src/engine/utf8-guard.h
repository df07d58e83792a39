#pragma once
// Keeps generated text valid UTF-8. Byte-level BPE vocabularies hold tokens that are parts of
// a character; random or unlucky sampling can chain them into byte sequences that are not
// UTF-8, which strict consumers (JSON parsers, HTTP clients) reject. Before each sample the
// guard sets the logit of every token that would break the encoding to -inf, given what the
// sequence has generated so far. Grammars in llama.cpp work on code points and do not stop
// this on their own.
#include <cstdint>
#include <string>
#include <vector>

namespace muse {

// Where a UTF-8 decoder stands between characters: how many continuation bytes it still
// needs, and the allowed range of the next one (narrower after E0, ED, F0, F4).
struct utf8_state {
    uint8_t need = 0;
    uint8_t lo   = 0x80;
    uint8_t hi   = 0xBF;
    bool    operator==(const utf8_state &) const = default;
};

// Advances `st` over `bytes`; false when they are not valid UTF-8 from there.
bool utf8_advance(utf8_state & st, const std::string & bytes);

class utf8_guard {
  public:
    // `pieces`: every token's bytes as generated text shows them, by token id.
    explicit utf8_guard(std::vector<std::string> pieces);

    // Masks (sets to -inf) the logits of tokens that would make the text invalid after `st`.
    void apply(float * logits, const utf8_state & st) const;
    // Token `t`'s bytes as generated text shows them (special tokens written out); t in range.
    const std::string & piece(int32_t t) const { return pieces_[(size_t) t]; }

  private:
    std::vector<std::string> pieces_;         // each token's bytes as generated text shows them
    std::vector<int32_t>     bad_from_start_;  // tokens invalid when no character is open
    std::vector<int32_t>     continuations_;  // tokens starting with a continuation byte
};

}  // namespace muse
