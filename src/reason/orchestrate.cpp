// Orchestrate: a planner pass writes a JSON plan (constrained by a schema, so it parses even
// from a weak model), K sub-agents solve the sub-tasks — all forked from the conversation's
// decoded prefix and batched together — and a merger pass composes the answer.
#include "engine/error.h"
#include "engine/model.h"
#include "reason/lanes.h"
#include "reason/orchestrate.h"
#include "reason/passes.h"
#include "reason/prompt-fork.h"

#include <nlohmann/json.hpp>

namespace muse::reason {

std::string plan_schema(int max_subtasks) {
    nlohmann::json item = {
        { "type", "object" },
        { "properties", { { "title", { { "type", "string" }, { "minLength", 1 }, { "maxLength", 48 } } },
                          { "instruction", { { "type", "string" }, { "minLength", 1 }, { "maxLength", 160 } } } } },
        { "required", { "title", "instruction" } },
        { "additionalProperties", false },
    };
    nlohmann::json schema = {
        { "type", "object" },
        { "properties", { { "subtasks", { { "type", "array" }, { "items", item }, { "minItems", 1 },
                                          { "maxItems", max_subtasks } } } } },
        { "required", { "subtasks" } },
        { "additionalProperties", false },
    };
    return schema.dump();
}

std::vector<subtask> plan_parse(const std::string & text, int max_subtasks) {
    std::vector<subtask> out;
    const size_t         a = text.find('{'), b = text.rfind('}');
    if (a == std::string::npos || b == std::string::npos || b < a) return out;
    auto j = nlohmann::json::parse(text.substr(a, b - a + 1), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("subtasks") || !j["subtasks"].is_array()) return out;
    for (const auto & t : j["subtasks"]) {
        if ((int) out.size() >= max_subtasks) break;
        if (!t.is_object() || !t.contains("title") || !t.contains("instruction") || !t["title"].is_string() ||
            !t["instruction"].is_string()) {
            continue;
        }
        out.push_back({ t["title"].get<std::string>(), t["instruction"].get<std::string>() });
    }
    return out;
}

chat_tool spawn_agent_tool() {
    chat_tool t;
    t.name        = "spawn_agent";
    t.description = "Run sub-agents in parallel, one per task, each seeing the conversation so far; returns each "
                    "sub-agent's answer.";
    nlohmann::json params = {
        { "type", "object" },
        { "properties", { { "tasks", { { "type", "array" }, { "minItems", 1 }, { "maxItems", 16 },
                                       { "items", { { "type", "object" },
                                                    { "properties", { { "title", { { "type", "string" } } },
                                                                      { "instruction", { { "type", "string" } } } } },
                                                    { "required", { "title", "instruction" } } } } } } } },
        { "required", { "tasks" } },
    };
    t.parameters = params.dump();
    return t;
}

static std::string subtask_suffix(const subtask & t) {
    return "\n\nYou are one of several sub-agents working on parts of this request. Your part: " + t.title + " — " +
           t.instruction + "\nSolve only your part, concisely.";
}

std::vector<agent_report> subagents_run(session & s, seq_handle root, const chat_request & request,
                                        const std::vector<media> & media, const std::vector<subtask> & tasks,
                                        const reason_params & params, const progress_fn & on_progress,
                                        const std::atomic<bool> * cancel, int first_index) {
    if (s.n_seq_max() < (int) tasks.size() + 1) {
        throw input_error(std::to_string(tasks.size()) + " sub-agents need " + std::to_string(tasks.size() + 1) +
                          " sequence slots; the session has " + std::to_string(s.n_seq_max()));
    }
    lanes subs(s, on_progress, cancel);
    for (size_t i = 0; i < tasks.size(); ++i) {
        auto p = std::make_shared<const chat_prompt>(chat_format(
            s.get_model(), request_with_suffix(request, subtask_suffix(tasks[i])), s.get_model().media_marker()));
        agent_report rep;
        rep.index       = first_index + (int) i;
        rep.role        = "sub-agent: " + tasks[i].title;
        const auto sp   = [&] { sampling_params x = params.sampling; x.seed += (uint32_t) i; return x; }();
        rep.seed        = sp.seed;
        rep.temperature = sp.temperature;
        subs.add(fork_for_prompt(s, root, *p, media, pass_params(params, sp)), p, rep, params.confidence_window);
    }
    subs.run(std::chrono::steady_clock::now());
    std::vector<agent_report> out;
    for (auto & l : subs.all()) out.push_back(l->report);
    subs.release();
    return out;
}

reason_result orchestrate_run(session & s, const chat_request & request, const std::vector<media> & media,
                              const reason_params & params, const progress_fn & on_progress,
                              const std::atomic<bool> * cancel) {
    const auto   t0  = std::chrono::steady_clock::now();
    chat_request req = request;
    req.think_budget = params.think_budget;
    reason_result r;

    // The conversation, decoded once; every pass below forks from it.
    auto root_prompt = chat_format(s.get_model(), req, s.get_model().media_marker());
    seq_handle root  = s.sequence_add(root_prompt, media, pass_params(params, params.sampling));
    s.prefill(root);
    s.sequence_park(root);
    r.prompt_tokens = s.sequence(root).n_prompt;

    // 1. Plan.
    chat_request preq = request_with_suffix(
        req, "\n\nBefore answering, split this request into at most " + std::to_string(params.max_subtasks) +
                 " independent sub-tasks. Reply only with JSON: {\"subtasks\": [{\"title\": ..., \"instruction\": ...}]}.");
    preq.json_schema     = plan_schema(params.max_subtasks);
    preq.enable_thinking = false;
    agent_report prep;
    prep.index = 0;
    prep.role  = "planner";
    prep.seed  = params.sampling.seed;
    sequence_params plan_sp = pass_params(params, params.sampling);
    plan_sp.max_tokens      = std::max(params.max_tokens, 64 + 128 * params.max_subtasks);
    const agent_report plan_rep = pass_run(s, root, preq, media, plan_sp, prep, params, on_progress, cancel, &r.ttft_secs);
    std::vector<subtask> tasks = plan_parse(plan_rep.content, params.max_subtasks);
    if (tasks.empty()) {
        // A plan that did not finish (cut by max_tokens): one sub-task, the request itself.
        tasks.push_back({ "answer", "answer the request" });
    }
    r.agents.push_back(plan_rep);
    for (const auto & t : tasks) r.plan.push_back(t.title);

    // 2. Sub-agents, batched.
    if (plan_rep.status != AGENT_STATUS_CANCELLED) {
        for (auto & rep : subagents_run(s, root, req, media, tasks, params, on_progress, cancel, 1)) {
            r.agents.push_back(rep);
        }
    }

    // 3. Merge.
    std::string results;
    for (size_t i = 1; i < r.agents.size(); ++i) {
        results += "\n### " + tasks[i - 1].title + "\n" + text_clip(r.agents[i].content, (size_t) params.synth_answer_chars);
    }
    const bool was_cancelled = cancel && cancel->load();
    if (!was_cancelled) {
        chat_request mreq  = request_with_suffix(req, "\n\nSub-agents worked on parts of this request:" + results +
                                                          "\n\nUsing their results, write the complete final answer.");
        agent_report mrep;
        mrep.index = (int) r.agents.size();
        mrep.role  = "merger";
        mrep.seed  = params.sampling.seed;
        const agent_report m = pass_run(s, root, mreq, media, pass_params(params, params.sampling), mrep, params,
                                        on_progress, cancel);
        r.content      = m.content;
        r.final_answer = m.extracted;
        r.agents.push_back(m);
    }
    for (const auto & a : r.agents) {
        r.reasoning_tokens += a.reasoning_tokens;
        r.answer_tokens += a.answer_tokens;
    }
    r.cancelled = cancel && cancel->load();
    s.sequence_release(root);
    r.wall_secs = secs_since(t0);
    return r;
}

}  // namespace muse::reason
