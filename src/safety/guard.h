#pragma once
// A Llama Guard model's prompt and verdict, and the model itself run on muse's engine.
#include <memory>
#include <string>
#include <vector>

#include "safety/policy.h"

namespace muse {
class backend;
}

namespace muse::safety {

struct guard_verdict {
    bool                     parsed = false;  // the text read as "safe" or "unsafe" + categories
    bool                     safe   = true;
    std::vector<std::string> categories;  // "S9", ... (unsafe only; may be empty)
};

struct guard_turn {
    std::string role;  // "user" | "assistant"
    std::string content;
};

// Llama Guard 3's prompt: task line, the policy's categories (<BEGIN UNSAFE CONTENT CATEGORIES>),
// the conversation (<BEGIN CONVERSATION> User: / Agent:), the assessment instructions
// ("Provide your safety assessment for ONLY THE LAST User|Agent message ..."). The last turn's
// role decides whose message is assessed.
std::string guard_prompt(const std::vector<guard_turn> & conversation, const policy & p);
// GBNF: "safe" | "unsafe\n" S<n>("," S<n>)* for the policy's ids (at most 3 categories, so a
// verdict always ends within the guard's token budget).
std::string guard_grammar(const policy & p);
// Tolerant of whitespace and case; unparseable -> parsed = false.
guard_verdict guard_parse(const std::string & text);

// Runs a guard GGUF on muse's engine: its own muse::model + muse::session (small context), the
// guard prompt rendered as one user message with the model's chat template (generation prompt
// on, thinking off), greedy, constrained by guard_grammar (or policy.guard_grammar), at most
// guard_max_tokens tokens. A model whose own template already builds Llama Guard's prompt (Llama
// Guard 3's GGUFs) gets a plain template instead, so the prompt is not wrapped twice.
// Thread-safe: one mutex, calls are serialized. Throws input_error on load failure with the
// file, the problem and the fix.
inline constexpr int guard_max_tokens = 24;

class guard_model {
  public:
    // `be`: the process's llama.cpp backend (muse::backend is one per process).
    guard_model(backend & be, const std::string & path, int n_threads = 0);
    ~guard_model();
    guard_model(const guard_model &)             = delete;
    guard_model & operator=(const guard_model &) = delete;

    guard_verdict       judge(const std::vector<guard_turn> & conversation, const policy & p);
    const std::string & path() const;
    // The text of the last verdict as generated (logs, tests).
    std::string last_text() const;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace muse::safety
