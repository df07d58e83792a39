#pragma once
// The safety policy at the tool loop: a call's arguments (an artifact's content) are checked
// before it runs, and what a tool returns after it ran: text in a page or a file that reads as
// instructions to the model (prompt injection) gets a note in front of it saying it is data,
// and content the policy blocks is withheld from the model.
#include "agent/loop.h"
#include "safety/checker.h"

#include <functional>
#include <string>

namespace muse::agent {

// One verdict that is not a plain allow, for the caller's audit.
struct call_verdict {
    safety::check_point point;
    safety::verdict     verdict;
    std::string         tool;
    std::string         content;  // what was checked (the caller digests it)
};
using call_verdict_fn = std::function<void(const call_verdict & v)>;

// Sets params.call_check and params.result_check from `checker` (which must outlive the loop).
void call_guard_install(loop_params & params, const safety::checker & checker, call_verdict_fn on_verdict);

}  // namespace muse::agent
