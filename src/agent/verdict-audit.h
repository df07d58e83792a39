#pragma once
// A safety verdict as the audit row that records it, the same from the server and the CLI:
// kind refusal (blocked), warn or verdict, where the check ran, the category, the action, the
// source, the route, and the rule in detail. The caller hands it to audit_record with the
// content checked (digested; kept only when the operator turned content logging on).
#include "safety/verdict.h"
#include "store/database.h"

#include <string>

namespace muse::agent {

store::audit_event verdict_audit_event(int64_t user_id, const safety::verdict & v, safety::check_point point,
                                       const std::string & route);

}  // namespace muse::agent
