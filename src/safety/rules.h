#pragma once
// The deterministic floor of the safety checks: works without any guard model. Intent patterns
// (a verb and its object within a few words, not single words) in the high-risk categories,
// prompt-injection markers in what tools return and secrets in tool arguments (rule-book.cpp),
// matched on every reading of the text that text-views.h makes.
#include <string>
#include <vector>

#include "safety/verdict.h"

namespace muse::safety {

struct rule_match {
    std::string category;  // "S9"
    std::string rule;      // "S9.nerve-agent-synthesis"
    bool        operator==(const rule_match &) const = default;
};

// Normalizes (case, Unicode confusables / full-width letters, zero-width and combining chars,
// leetspeak digits, spacing/punctuation between letters "n e r v e"), also looks into decoded
// base64 / hex / rot13 runs, and matches per-category rules. Returns every category matched,
// each once, with the first of its rules (in rule-book order) that matched.
std::vector<rule_match> rules_match(const std::string & text, check_point point);

// Every rule that matched, several per category (tests: is each rule exercised).
std::vector<rule_match> rules_match_every(const std::string & text, check_point point);

// The ids of every rule, in rule-book order (docs, tests).
std::vector<std::string> rules_ids();

}  // namespace muse::safety
