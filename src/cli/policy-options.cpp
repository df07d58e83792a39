#include "cli/policy-options.h"

#include "agent/verdict-audit.h"
#include "engine/error.h"
#include "safety/policy.h"
#include "store/data-dir.h"
#include "store/database.h"


#include <cstdio>
#include <filesystem>

namespace muse::cli {

void policy_options_add(CLI::App * cmd, policy_options & o) {
    cmd->add_option("--policy", o.policy,
                    "the safety policy: a policy file (docs/safety-policy.md; `muse policy show` prints the default), "
                    "default (the built-in one), or off")
        ->capture_default_str();
    cmd->add_option("--guard-model", o.guard_model,
                    "a guard model GGUF (e.g. Llama Guard 3) that judges prompts and answers beside the policy's rules");
}

policy_runtime policy_runtime_make(const policy_options & o, backend & be, int n_threads) {
    policy_runtime rt;
    if (o.policy == "off") {
        if (!o.guard_model.empty()) throw input_error("--guard-model needs a policy: drop --policy off (the guard's verdicts map to its categories)");
        return rt;
    }
    safety::policy p;
    try {
        p = o.policy == "default" || o.policy.empty() ? safety::policy_default() : safety::policy_load(o.policy);
    } catch (const safety::policy_error & e) {
        throw input_error(e.what());
    }
    if (!o.guard_model.empty()) {
        if (!std::filesystem::is_regular_file(o.guard_model)) {
            throw input_error("--guard-model " + o.guard_model + ": no such file; give the path of a guard GGUF (e.g. Llama Guard 3)");
        }
        rt.guard = std::make_unique<safety::guard_model>(be, o.guard_model, n_threads);
    }
    rt.checker = std::make_unique<safety::checker>(std::move(p), rt.guard.get());
    return rt;
}

void policy_audit(const safety::verdict & v, safety::check_point point, const std::string & route, const std::string & content) {
    if (v.action == safety::POLICY_ACTION_ALLOW && v.category.empty()) return;
    try {
        store::database db(store::data_dir_default());
        const store::audit_event e = agent::verdict_audit_event(db.user_get_or_create("local", true).id, v, point, route);
        db.audit_record(e, content);
    } catch (const std::exception & ex) {
        fprintf(stderr, "note: the safety verdict was not audited: %s\n", ex.what());
    }
}

safety::verdict policy_check_text(const safety::checker * checker, safety::check_point point, const std::string & text,
                                  const std::string & route) {
    if (!checker || text.empty()) return {};
    const auto & p = checker->policy_of();
    if ((point == safety::CHECK_POINT_INPUT && !p.check_input) || (point == safety::CHECK_POINT_OUTPUT && !p.check_output)) return {};
    safety::verdict v = checker->check(point, text);
    policy_audit(v, point, route, text);
    return v;
}

void policy_stop_print(const safety::verdict & v, bool output) {
    printf("%s%s\n", output ? "\n" : "", v.reply().c_str());
    fflush(stdout);
    if (!v.crisis) {
        fprintf(stderr, "note: the safety policy %s (%s%s%s); `muse policy show` prints the policy, --policy FILE sets another\n",
                output ? "stopped the answer" : "refused the prompt", v.category.c_str(), v.rule.empty() ? "" : ", rule ",
                v.rule.c_str());
    }
}

}  // namespace muse::cli
