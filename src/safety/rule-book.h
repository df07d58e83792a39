#pragma once
// The rules of the rule layer, as data (rule-book.cpp); rules.cpp compiles and matches them.
#include <string>
#include <vector>

#include "safety/verdict.h"

namespace muse::safety {

enum rule_kind {
    RULE_KIND_WORDS,    // every group occurs within `window` words of the others
    RULE_KIND_LITERAL,  // one of the alternatives occurs in the folded text (punctuation kept)
    RULE_KIND_PATH,     // one of the alternatives occurs in the text read as a path; '#' is one path segment
};

// A group is alternatives separated by '|'; an alternative is words separated by spaces (in a
// row); a word ending in '*' matches every word it starts (at least 3 letters before the '*').
struct rule_spec {
    std::string              id;        // "S9.nerve-agent-synthesis"
    std::string              category;  // "S9"
    unsigned                 points;    // check points it applies at: bit (1 << check_point)
    rule_kind                kind;
    std::vector<std::string> groups;           // words: all must occur; literal / path: the alternatives, one each
    int                      window  = 12;     // words
    bool                     ordered = false;  // the groups occur in this order
    // Words: phrases that take the words they cover out of the match ("bath bomb", "child process").
    std::string unless;
};

inline constexpr unsigned point_bit(check_point p) {
    return 1u << (unsigned)p;
}

const std::vector<rule_spec> & rule_book();

}  // namespace muse::safety
