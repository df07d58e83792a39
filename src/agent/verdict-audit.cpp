#include "agent/verdict-audit.h"

#include <nlohmann/json.hpp>

namespace muse::agent {

store::audit_event verdict_audit_event(int64_t user_id, const safety::verdict & v, safety::check_point point,
                                       const std::string & route) {
    store::audit_event e;
    e.user_id        = user_id;
    e.kind           = v.blocked() ? "refusal" : v.action == safety::POLICY_ACTION_WARN ? "warn" : "verdict";
    e.point          = safety::check_point_name(point);
    e.category       = v.category;
    e.verdict_action = safety::policy_action_name(v.action);
    e.source         = v.source;
    e.route          = route;
    e.detail         = nlohmann::json{ { "rule", v.rule }, { "crisis", v.crisis } }.dump();
    return e;
}

}  // namespace muse::agent
