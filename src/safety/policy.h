#pragma once
// The operator's safety policy: the Llama Guard 3 categories (S1-S14, more may be added), what
// each one does (block / warn / allow), the refusal texts and how health topics are answered.
// The file format is the JSON policy_json prints (docs/safety-policy.md); the default is built
// here in code, so a build without any policy file is already guarded.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace muse::safety {

enum policy_action {
    POLICY_ACTION_ALLOW,  // passes, nothing logged as a refusal
    POLICY_ACTION_WARN,   // passes; the verdict is logged and may add a note (health)
    POLICY_ACTION_BLOCK,  // replaced by the refusal (or, for self-harm, the crisis text)
};
const char * policy_action_name(policy_action a);  // "allow" | "warn" | "block"

struct policy_category {
    std::string   id;    // "S1".."S14" (Llama Guard 3), operators may add "S15"...
    std::string   name;  // "Violent Crimes", ...
    policy_action action = POLICY_ACTION_BLOCK;
    std::string   refusal;  // sent instead of the answer when blocked ("" = policy.refusal)
    bool          operator==(const policy_category &) const = default;
};

// S6 (specialized advice: medical) and S11 (self-harm): answers pass with a note, and a person
// in crisis gets resources instead of a refusal.
struct health_policy {
    bool        enabled = true;
    std::string note;         // appended to medical answers
    std::string crisis_text;  // the answer for crisis topics (suicide, self-harm)
    bool        operator==(const health_policy &) const = default;
};

struct policy {
    std::vector<policy_category> categories;
    std::string                  refusal;  // default refusal text
    health_policy                health;
    bool                         check_input  = true;  // user turns, uploads, OCR text, tool output
    bool                         check_output = true;  // answers (also streaming), tool arguments, artifacts
    size_t stream_check_chars = 256;  // while streaming, check again every this many new characters; 0: at the end only
    // Optional GBNF that replaces the guard's verdict grammar (operators narrow the verdicts;
    // tests force one). "" = guard_grammar(policy).
    std::string guard_grammar;

    const policy_category * category_find(const std::string & id) const;  // nullptr if none
    bool                    operator==(const policy &) const = default;
};

// A policy file that cannot be used. The message names the file, the field, the problem and the fix.
struct policy_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

policy policy_default();
// A policy file's text. Every field is optional: what a file leaves out keeps the default, and a
// category it lists replaces the default one with that id (a new id adds one; a new one needs a
// name). `origin` names the text in errors (a path, "--policy").
policy policy_parse(const std::string & json_text, const std::string & origin);
policy policy_load(const std::string & path);  // reads the file; errors name the path
// The file format, pretty-printed, every field written: policy_parse(policy_json(p)) == p.
std::string policy_json(const policy & p);

// "S9" and the like: 'S' then a number from 1 to 999 without leading zeros.
bool category_id_valid(const std::string & id);

}  // namespace muse::safety
