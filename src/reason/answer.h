#pragma once
// The final answer in an agent's text, normalised so that answers written differently but
// meaning the same compare equal ("1,000", "1000.0" and "1e3"; "(B)" and "Option b"), and the
// vote over several agents' answers.
#include <string>
#include <vector>

namespace muse::reason {

enum answer_kind {
    ANSWER_KIND_NONE,    // nothing found
    ANSWER_KIND_NUMBER,  // canonical decimal, e.g. "-12.5", "0.75" (from "3/4"), "50" (from "50%")
    ANSWER_KIND_CHOICE,  // one capital letter A-J
    ANSWER_KIND_TEXT,    // short lowercase string without punctuation or articles
    ANSWER_KIND_JSON,    // the value of a JSON field, serialised
};

struct answer {
    answer_kind kind = ANSWER_KIND_NONE;
    std::string value;
    bool        empty() const { return kind == ANSWER_KIND_NONE; }
};

struct answer_options {
    std::string json_field;   // when the answer is JSON: compare this field ("" = whole object)
    bool        json = false;  // the answer is a JSON document
    size_t      max_text = 64;  // longer free-text answers are cut to this many bytes
};

// Finds the answer: a JSON field, \boxed{...}, "answer is ...", "Answer: ...", or else the
// last line; then reads it as a choice letter, a number, or normalised text.
answer answer_extract(const std::string & text, const answer_options & opts = {});

// "1,234.50" -> "1234.5", "3/4" -> "0.75", "-2e3" -> "-2000", "50%" -> "50"; "" if not a number.
std::string number_normalize(const std::string & s);

// The first `max_bytes` of `s` without cutting a UTF-8 character, with "…" when cut.
std::string text_clip(const std::string & s, size_t max_bytes);

struct vote_result {
    answer              winner;
    int                 votes     = 0;    // for the winner
    int                 n_answers = 0;    // agents that gave any answer
    double              agreement = 0.0;  // votes / n_answers
    std::vector<size_t> supporters;       // indices of the agents that gave the winner
};

// Majority vote. `weights` (e.g. confidences) break ties, or, with `weighted`, replace counts.
vote_result vote(const std::vector<answer> & answers, const std::vector<double> & weights = {}, bool weighted = false);

}  // namespace muse::reason
