#pragma once
// `muse eval`'s results as a Markdown table (what docs/eval.md and a note quote) and as JSON.
#include "eval/runner.h"

#include <string>

namespace muse::eval {

struct report_context {
    std::string model;  // path
    std::string suite;  // path
    std::string cpu;    // the CPU the numbers came from
    int         items  = 0;
    int         repeat = 1;
};

// | mode | accuracy | 95% CI | reasoning tok | answer tok | p50 s | p90 s | tok/s |
std::string report_table(const std::vector<mode_report> & modes);

// {"model", "suite", "cpu", "items", "repeat", "modes": [{... , "outcomes": [...]}]}
std::string report_json(const report_context & ctx, const std::vector<mode_report> & modes, bool with_outcomes);

}  // namespace muse::eval
