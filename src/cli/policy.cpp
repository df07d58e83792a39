// `muse policy`: shows the policy in force (the file format, docs/safety.md) and checks a text
// against it the way muse serve would — the rules, and the guard model when one is given.
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/policy-options.h"
#include "engine/backend.h"
#include "engine/error.h"
#include "safety/policy.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>

namespace muse::cli {

namespace {

struct policy_check_options {
    policy_options policy;
    std::string    point = "input";
    std::string    text;
};

safety::check_point point_parse(const std::string & name) {
    for (auto p : { safety::CHECK_POINT_INPUT, safety::CHECK_POINT_OUTPUT, safety::CHECK_POINT_TOOL_ARGUMENTS,
                    safety::CHECK_POINT_TOOL_OUTPUT, safety::CHECK_POINT_ARTIFACT, safety::CHECK_POINT_UPLOAD }) {
        if (name == safety::check_point_name(p)) return p;
    }
    throw input_error("--point " + name + ": give input, output, tool_arguments, tool_output, artifact or upload");
}

int policy_show(const policy_options & o) {
    if (o.policy == "off") throw input_error("--policy off has nothing to show; give a policy file or default");
    backend              be(false);
    const policy_runtime rt = policy_runtime_make({ o.policy, "" }, be);
    const std::string    text = safety::policy_json(rt.checker->policy_of());
    fwrite(text.data(), 1, text.size(), stdout);
    if (text.empty() || text.back() != '\n') fputc('\n', stdout);
    return 0;
}

int policy_check(const policy_check_options & o) {
    const safety::check_point point = point_parse(o.point);
    std::string text = o.text;
    if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (text.empty()) throw input_error("no text to check: give it as the argument, or - to read standard input");
    backend              be(false);
    const policy_runtime rt = policy_runtime_make(o.policy, be);
    if (!rt.checker) throw input_error("--policy off checks nothing; give a policy file or default");
    const safety::verdict v = rt.checker->check(point, text);
    nlohmann::json out = { { "action", safety::policy_action_name(v.action) }, { "blocked", v.blocked() },
                           { "point", safety::check_point_name(point) },
                           { "category", v.category.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.category) },
                           { "source", v.source.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.source) },
                           { "rule", v.rule.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.rule) },
                           { "message", v.message } };
    if (v.crisis) out["crisis"] = true;
    if (const auto * c = rt.checker->policy_of().category_find(v.category)) out["category_name"] = c->name;
    printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
}

struct policy_redteam_options {
    policy_options policy;
    std::string    suite;
    bool           verbose = false;
};

// Runs a red-team suite (JSON lines: id, point, text, expect, category; tests/redteam/rules.jsonl)
// through the policy in force — the rules, and the guard model when one is given — and reports
// each case that did not get the verdict it expects. Exit 0 when all did, 2 when some did not.
int policy_redteam(const policy_redteam_options & o) {
    const std::string text = file_read(o.suite, "red-team suite");
    backend              be(false);
    const policy_runtime rt = policy_runtime_make(o.policy, be);
    if (!rt.checker) throw input_error("--policy off checks nothing; give a policy file or default");
    int passed = 0, failed = 0, line_no = 0;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        ++line_no;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const nlohmann::json c = nlohmann::json::parse(line, nullptr, false);
        const auto where = o.suite + ":" + std::to_string(line_no);
        if (!c.is_object() || !c.contains("text") || !c["text"].is_string() || !c.contains("expect") || !c["expect"].is_string()) {
            throw input_error(where + ": each line must be a JSON object with \"text\" and \"expect\" (block, warn or allow) "
                              "strings, as in tests/redteam/rules.jsonl");
        }
        safety::check_point point = safety::CHECK_POINT_INPUT;
        const std::string   pname = c.value("point", "input");
        if (!safety::check_point_parse(pname, point)) throw input_error(where + ": unknown point \"" + pname + "\"");
        const std::string expect   = c["expect"];
        const std::string category = c.contains("category") && c["category"].is_string() ? c["category"].get<std::string>() : "";
        const safety::verdict v = rt.checker->check(point, c["text"].get<std::string>());
        const bool ok = expect == safety::policy_action_name(v.action) && (category.empty() || category == v.category);
        if (ok) {
            ++passed;
            if (o.verbose) printf("ok   %s\n", c.value("id", where).c_str());
        } else {
            ++failed;
            printf("FAIL %s: expected %s%s%s, got %s%s%s (%s)\n", c.value("id", where).c_str(), expect.c_str(),
                   category.empty() ? "" : " ", category.c_str(), safety::policy_action_name(v.action),
                   v.category.empty() ? "" : " ", v.category.c_str(), v.source.empty() ? "nothing matched" : v.source.c_str());
        }
    }
    printf("%d passed, %d failed%s\n", passed, failed, rt.guard ? (" (rules + guard " + rt.guard->path() + ")").c_str() : " (rules)");
    return failed == 0 ? 0 : 2;
}

}  // namespace

void policy_command_add(CLI::App & app, command_runner & runner) {
    auto * cmd = app.add_subcommand("policy", "show the safety policy, check a text against it, or run a red-team suite through it");
    cmd->require_subcommand(1);

    auto   show_opts = std::make_shared<policy_options>();
    auto * show      = cmd->add_subcommand("show", "print the policy in force as a policy file (JSON; docs/safety.md)");
    show->add_option("--policy", show_opts->policy, "a policy file, or default")->capture_default_str();
    show->callback([show_opts, &runner]() { runner.run = [show_opts](const std::atomic<bool> &) { return policy_show(*show_opts); }; });

    auto   check_opts = std::make_shared<policy_check_options>();
    auto * check      = cmd->add_subcommand("check", "check a text as muse serve would: prints the verdict as JSON");
    check->add_option("text", check_opts->text, "the text to check, or - to read standard input")->required();
    check->add_option("--point", check_opts->point, "where the text meets the policy: input, output, tool_arguments, "
                                                    "tool_output, artifact or upload")->capture_default_str();
    policy_options_add(check, check_opts->policy);
    check->callback([check_opts, &runner]() { runner.run = [check_opts](const std::atomic<bool> &) { return policy_check(*check_opts); }; });

    auto   rt_opts = std::make_shared<policy_redteam_options>();
    auto * rt      = cmd->add_subcommand("redteam", "run a red-team suite (JSON lines, tests/redteam/rules.jsonl) through the "
                                                    "policy and a guard model; exit 2 when a case misses its verdict");
    rt->add_option("suite", rt_opts->suite, "the suite file")->required();
    rt->add_flag("-v,--verbose", rt_opts->verbose, "print every case, not only the ones that miss");
    policy_options_add(rt, rt_opts->policy);
    rt->callback([rt_opts, &runner]() { runner.run = [rt_opts](const std::atomic<bool> &) { return policy_redteam(*rt_opts); }; });
}

}  // namespace muse::cli
