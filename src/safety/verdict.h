#pragma once
// Where a text is checked and what the check decided.
#include <string>

#include "safety/policy.h"

namespace muse::safety {

enum check_point {
    CHECK_POINT_INPUT,           // a user turn (also the OCR text of its images)
    CHECK_POINT_OUTPUT,          // the answer, also while it streams
    CHECK_POINT_TOOL_ARGUMENTS,  // a tool call the model made, before it runs
    CHECK_POINT_TOOL_OUTPUT,     // what a tool returned (a web page, a file), before the model reads it
    CHECK_POINT_ARTIFACT,        // a file the answer writes
    CHECK_POINT_UPLOAD,          // text a user uploaded
};
const char * check_point_name(check_point p);  // "input", "output", "tool_arguments", ...
// The check point a name stands for; false when the name is none of check_point_name's.
bool check_point_parse(const std::string & name, check_point & out);

struct verdict {
    policy_action action = POLICY_ACTION_ALLOW;
    std::string   category;        // "S9"; "" when nothing matched (or a guard said unsafe without a category)
    std::string   source;          // "rules" | "guard" | "" (nothing matched)
    std::string   rule;            // the rule id that matched (rules), e.g. "S9.nerve-agent-synthesis"
    std::string   message;         // block: the refusal text; warn: the note to add (health note)
    bool          crisis = false;  // S11: message is the crisis text, sent as the answer
    bool          blocked() const { return action == POLICY_ACTION_BLOCK; }
    // What a warning adds to the answer it lets pass ("\n\n" and the note); "" otherwise.
    std::string   note_suffix() const { return action == POLICY_ACTION_WARN && !message.empty() ? "\n\n" + message : ""; }
    // What replaces an answer the policy stopped: the refusal (or crisis) text.
    std::string   reply() const { return message.empty() ? std::string("I can't help with that.") : message; }
};

}  // namespace muse::safety
