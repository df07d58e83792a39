#pragma once
// The safety policy's options, shared by `muse run`, `muse chat` and `muse serve`:
// --policy FILE|default|off and --guard-model FILE.gguf, and what they make.
#include "safety/checker.h"
#include "safety/guard.h"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace muse {
class backend;
}

namespace muse::cli {

struct policy_options {
    std::string policy = "default";  // a policy file, "default" (the built-in one) or "off"
    std::string guard_model;         // a Llama Guard GGUF; empty: the rule layer alone
};

void policy_options_add(CLI::App * cmd, policy_options & o);

// The checker and the guard it asks, owned together; `checker` is null for --policy off.
struct policy_runtime {
    std::unique_ptr<safety::guard_model> guard;
    std::unique_ptr<safety::checker>     checker;
};

// Reads the policy (input_error naming the file on a bad one) and loads the guard model on `be`.
policy_runtime policy_runtime_make(const policy_options & o, backend & be, int n_threads = 0);

// Checks `text` at `point` (ALLOW without a checker) and records a verdict that is not a plain
// allow in the local store's audit (user "local", the data directory muse uses by default); a
// store that cannot be opened is noted on stderr, the verdict stands.
safety::verdict policy_check_text(const safety::checker * checker, safety::check_point point, const std::string & text,
                                  const std::string & route);
void            policy_audit(const safety::verdict & v, safety::check_point point, const std::string & route,
                             const std::string & content);

// What the terminal shows when the policy stopped a turn: the reply on stdout, why on stderr.
void policy_stop_print(const safety::verdict & v, bool output);

}  // namespace muse::cli
