#include "eval/report.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace muse::eval {

std::string report_table(const std::vector<mode_report> & modes) {
    std::string out = "| mode | accuracy | 95% CI | reasoning tok | answer tok | p50 s | p90 s | tok/s |\n"
                      "|---|---|---|---|---|---|---|---|\n";
    for (const auto & m : modes) {
        char line[320];
        snprintf(line, sizeof line, "| %s | %.1f%% (%d/%d) | %.1f-%.1f%% | %.1f | %.1f | %.2f | %.2f | %.1f |\n",
                 m.label.c_str(), 100 * m.accuracy, m.correct, m.n, 100 * m.ci_low, 100 * m.ci_high, m.reasoning_tokens,
                 m.answer_tokens, m.latency_p50, m.latency_p90, m.tokens_per_s);
        out += line;
    }
    return out;
}

std::string report_json(const report_context & ctx, const std::vector<mode_report> & modes, bool with_outcomes) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto & m : modes) {
        nlohmann::json j = { { "mode", m.label },
                             { "n", m.n },
                             { "correct", m.correct },
                             { "accuracy", m.accuracy },
                             { "ci95", { m.ci_low, m.ci_high } },
                             { "reasoning_tokens", m.reasoning_tokens },
                             { "answer_tokens", m.answer_tokens },
                             { "latency_p50_s", m.latency_p50 },
                             { "latency_p90_s", m.latency_p90 },
                             { "tokens_per_s", m.tokens_per_s } };
        if (with_outcomes) {
            nlohmann::json oc = nlohmann::json::array();
            for (const auto & o : m.outcomes) {
                oc.push_back({ { "id", o.item_id }, { "repeat", o.repeat }, { "correct", o.correct }, { "got", o.got },
                               { "reasoning_tokens", o.reasoning_tokens }, { "answer_tokens", o.answer_tokens },
                               { "tool_calls", o.tool_calls }, { "secs", o.secs }, { "agreement", o.agreement } });
            }
            j["outcomes"] = oc;
        }
        arr.push_back(j);
    }
    const nlohmann::json root = { { "model", ctx.model }, { "suite", ctx.suite }, { "cpu", ctx.cpu },
                                  { "items", ctx.items }, { "repeat", ctx.repeat }, { "modes", arr } };
    return root.dump(2);
}

}  // namespace muse::eval
