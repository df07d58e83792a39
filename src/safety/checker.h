#pragma once
// A policy's checks: the rule layer first, then the guard model (if any); the policy decides
// what a category does. While streaming, stream_checker checks the answer so far again every
// policy.stream_check_chars new characters, so a phrase split across chunks is caught.
#include <string>
#include <vector>

#include "safety/guard.h"
#include "safety/policy.h"
#include "safety/verdict.h"

namespace muse::safety {

class checker {
  public:
    explicit checker(policy p, guard_model * guard = nullptr);  // guard not owned; it must outlive the checker

    // `conversation`: earlier turns for the guard's context (may be empty); `text` the thing checked.
    // The rules alone decide when they block (the guard is not asked then). Several categories:
    // the strictest action wins; among blocks, a crisis (S11) comes first, then the rules' match.
    verdict check(check_point point, const std::string & text, const std::vector<guard_turn> & conversation = {}) const;
    const policy & rules() const { return policy_; }
    const policy & policy_of() const { return policy_; }
    bool           has_guard() const { return guard_ != nullptr; }
    // Whether the policy checks texts at `point` at all (check_input / check_output).
    bool checks(check_point point) const;

    // The verdict a category gets under this policy, `source` and `rule` as given.
    verdict verdict_for(const std::string & category, const std::string & source, const std::string & rule) const;

  private:
    policy        policy_;
    guard_model * guard_;
};

class stream_checker {
  public:
    stream_checker(const checker & c, std::vector<guard_turn> conversation);
    // ALLOW (nothing yet, or nothing that stops the stream) or the verdict that stops it. After a
    // blocking verdict every later push returns that verdict again.
    verdict push(const std::string & delta);
    // The final check of the whole answer (a warn's note comes from here).
    verdict             finish();
    const std::string & text() const { return text_; }

  private:
    const checker &         checker_;
    std::vector<guard_turn> conversation_;
    std::string             text_;
    size_t                  checked_ = 0;  // text_.size() at the last check
    bool                    stopped_ = false;
    verdict                 last_;
    bool                    has_last_ = false;
};

}  // namespace muse::safety
