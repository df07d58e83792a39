#pragma once
// The readings of one text that the rule layer matches (rules.cpp): what a person reads, not
// the bytes. Look-alike and full-width letters fold to ASCII, invisible and combining characters
// go, letters spelled out with spaces or dots ("n e r v e") join into one word, leetspeak digits
// read as letters, rot13 reads back, and base64 / hex / percent-encoded runs are decoded and read
// the same way (twice deep).
#include <string>
#include <vector>

namespace muse::safety {

struct text_word {
    std::string text;
    bool        joined = false;  // letters that were spelled out one by one ("s a r i n" -> "sarin")
};

struct text_views {
    std::vector<std::vector<text_word>> words;  // the text as words: plain, leetspeak (1 as i, 1 as l), rot13
    std::vector<std::string>            flat;   // the folded text, whitespace runs as one space
    std::vector<std::string>            paths;  // the folded text with quotes, commas, '+' and spaces as '/'
};

// Lowercase ASCII: look-alikes folded, invisible and combining characters dropped (Unicode tag
// characters read as the ASCII they hide), any other character a space. Bad UTF-8 bytes are spaces.
std::string text_fold(const std::string & utf8);

// The printable text hidden in the base64, hex ("6e65", "\x6e\x65", "6e 65") and percent-encoded
// runs of `text`, each run decoded on its own.
std::vector<std::string> text_decodings(const std::string & text);

text_views text_views_of(const std::string & text);

}  // namespace muse::safety
