#include "safety/checker.h"

#include "safety/rules.h"

namespace muse::safety {

namespace {

// The order verdicts are ranked in: block > warn > allow; among blocks a crisis first.
int severity(const verdict & v) {
    if (v.action == POLICY_ACTION_BLOCK)
        return v.crisis ? 4 : 3;
    return v.action == POLICY_ACTION_WARN ? 2 : v.source.empty() ? 0 : 1;
}

bool point_is_agent(check_point point) {
    return point == CHECK_POINT_OUTPUT || point == CHECK_POINT_TOOL_ARGUMENTS || point == CHECK_POINT_ARTIFACT;
}

}  // namespace

checker::checker(policy p, guard_model * guard) : policy_(std::move(p)), guard_(guard) {}

bool checker::checks(check_point point) const {
    switch (point) {
        case CHECK_POINT_INPUT:
        case CHECK_POINT_UPLOAD:
        case CHECK_POINT_TOOL_OUTPUT:
            return policy_.check_input;
        case CHECK_POINT_OUTPUT:
        case CHECK_POINT_TOOL_ARGUMENTS:
        case CHECK_POINT_ARTIFACT:
            return policy_.check_output;
    }
    return true;
}

verdict checker::verdict_for(const std::string & category, const std::string & source, const std::string & rule) const {
    verdict v;
    v.category                = category;
    v.source                  = source;
    v.rule                    = rule;
    const policy_category * c = category.empty() ? nullptr : policy_.category_find(category);
    // A category the policy does not know (a guard's own, an unsure "unsafe") is blocked.
    v.action = c ? c->action : POLICY_ACTION_BLOCK;
    if (policy_.health.enabled && category == "S11" && v.action == POLICY_ACTION_BLOCK) {
        v.crisis  = true;
        v.message = policy_.health.crisis_text;
        return v;
    }
    if (v.action == POLICY_ACTION_BLOCK) {
        v.message = c && !c->refusal.empty() ? c->refusal : policy_.refusal;
    } else if (v.action == POLICY_ACTION_WARN) {
        v.message = policy_.health.enabled && category == "S6" ? policy_.health.note : (c ? c->refusal : "");
    }
    return v;
}

verdict checker::check(check_point point, const std::string & text,
                       const std::vector<guard_turn> & conversation) const {
    verdict best;
    if (!checks(point) || text.empty())
        return best;
    const auto consider = [&](verdict v) {
        if (severity(v) > severity(best))
            best = std::move(v);
    };
    for (const auto & m : rules_match(text, point))
        consider(verdict_for(m.category, "rules", m.rule));
    if (guard_ && !best.blocked()) {
        std::vector<guard_turn> turns = conversation;
        turns.push_back({ point_is_agent(point) ? "assistant" : "user", text });
        const guard_verdict g = guard_->judge(turns, policy_);
        if (g.parsed && !g.safe) {
            if (g.categories.empty())
                consider(verdict_for("", "guard", ""));
            for (const auto & id : g.categories)
                consider(verdict_for(id, "guard", ""));
        }
    }
    return best;
}

stream_checker::stream_checker(const checker & c, std::vector<guard_turn> conversation) :
    checker_(c), conversation_(std::move(conversation)) {}

verdict stream_checker::push(const std::string & delta) {
    if (stopped_)
        return last_;
    text_ += delta;
    const size_t every = checker_.policy_of().stream_check_chars;
    if (every == 0 || text_.size() - checked_ < every)
        return {};
    checked_  = text_.size();
    last_     = checker_.check(CHECK_POINT_OUTPUT, text_, conversation_);
    has_last_ = true;
    if (last_.blocked()) {
        stopped_ = true;
        return last_;
    }
    return {};
}

verdict stream_checker::finish() {
    if (stopped_ || (has_last_ && checked_ == text_.size()))
        return last_;
    checked_  = text_.size();
    last_     = checker_.check(CHECK_POINT_OUTPUT, text_, conversation_);
    has_last_ = true;
    stopped_  = last_.blocked();
    return last_;
}

}  // namespace muse::safety
