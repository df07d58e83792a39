#pragma once
// An evaluation suite: one JSON object per line (docs/eval.md):
//   {"id": "easy-1", "question": "What is 12 + 30?", "answer": "42", "checker": "numeric",
//    "tags": {"split": "easy"}}
// checker: "exact" (the final answer equals `answer`, spaces trimmed), "numeric" (as numbers:
// "1,000" = "1000.0"), "regex" (`answer` is an ECMAScript regex searched in the answer text),
// "json" (the answer is JSON whose field `field` equals `answer`). Default: numeric when the
// answer is a number, else exact.
#include <string>
#include <vector>

namespace muse::eval {

enum checker_kind {
    CHECKER_KIND_EXACT,
    CHECKER_KIND_NUMERIC,
    CHECKER_KIND_REGEX,
    CHECKER_KIND_JSON,
};
const char * checker_kind_name(checker_kind k);

struct eval_item {
    std::string  id;
    std::string  question;
    std::string  answer;
    checker_kind checker = CHECKER_KIND_EXACT;
    std::string  field;  // CHECKER_KIND_JSON
    std::string  tags;   // JSON object text, carried into the report
};

// Reads a suite; throws input_error naming the file, the line and the fix for any bad line,
// an empty suite or a bad regex.
std::vector<eval_item> suite_load(const std::string & path);
std::vector<eval_item> suite_parse(const std::string & text, const std::string & origin);

// Whether `content` (the model's answer, reasoning excluded) is right for `item`; `got` is
// what was read from it (the number, the field, the trimmed text).
bool answer_check(const eval_item & item, const std::string & content, std::string * got = nullptr);

}  // namespace muse::eval
