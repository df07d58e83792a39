// Contemplate: N agents reason on one question from one shared prompt, computed once. The
// prompt is prefilled into a root sequence; each agent forks from it (sharing its cells and
// sampling its first token from the root's logits), and all agents advance in the same
// decode steps. Their answers are combined by vote, by confidence (DeepConf), or by a
// synthesis pass forked from the same prompt.
#include "engine/error.h"
#include "engine/model.h"
#include "reason/lanes.h"
#include "reason/passes.h"
#include "reason/prompt-fork.h"

#include <algorithm>
#include <cmath>

namespace muse::reason {

namespace {

// Approach hints for --perspectives: each agent is nudged down a different path.
const char * perspective_hints[] = {
    "Approach: reason step by step from first principles.",
    "Approach: work backwards from what the answer must satisfy.",
    "Approach: consider a concrete example first, then generalise.",
    "Approach: list the possible answers and eliminate the wrong ones.",
    "Approach: estimate first, then compute exactly and compare.",
    "Approach: restate the problem in your own words before solving it.",
    "Approach: look for a shortcut or invariant before calculating.",
    "Approach: solve it two different ways and check they agree.",
};

sampling_params agent_sampling(const reason_params & p, int i) {
    sampling_params sp = p.sampling;
    sp.seed            = p.sampling.seed + (uint32_t) i;
    if (p.agents > 1 && p.sampling.temperature > 0) {
        const float offset = p.temperature_spread * ((float) i / (float) (p.agents - 1) - 0.5f);
        sp.temperature     = std::clamp(p.sampling.temperature + offset, 0.05f, 5.0f);
    }
    return sp;
}


}  // namespace

reason_result contemplate_run(session & s, const chat_request & request, const std::vector<media> & media,
                              const reason_params & params, const progress_fn & on_progress,
                              const std::atomic<bool> * cancel) {
    if (s.n_seq_max() < params.agents + 2) {
        throw input_error(std::to_string(params.agents) + " agents need a session with " +
                          std::to_string(params.agents + 2) + " sequence slots; it has " + std::to_string(s.n_seq_max()));
    }
    const auto   t0  = std::chrono::steady_clock::now();
    chat_request req = request;
    req.enable_thinking = true;
    req.think_budget    = params.think_budget;
    auto prompt = std::make_shared<const chat_prompt>(chat_format(s.get_model(), req, s.get_model().media_marker()));

    reason_result r;
    // The shared prompt, computed once.
    seq_handle root = s.sequence_add(*prompt, media, pass_params(params, params.sampling));
    s.prefill(root);
    r.prompt_tokens = s.sequence(root).n_prompt;

    lanes agents(s, on_progress, cancel);
    for (int i = 0; i < params.agents; ++i) {
        agent_report rep;
        rep.index       = i;
        rep.role        = "agent";
        const auto sp   = agent_sampling(params, i);
        rep.seed        = sp.seed;
        rep.temperature = sp.temperature;
        if (params.perspectives) {
            // The hint goes at the end of the question: everything before it stays shared.
            const std::string hint = std::string("\n\n") + perspective_hints[i % std::size(perspective_hints)];
            auto hp = std::make_shared<const chat_prompt>(
                chat_format(s.get_model(), request_with_suffix(req, hint), s.get_model().media_marker()));
            agents.add(fork_for_prompt(s, root, *hp, media, pass_params(params, sp)), hp, rep, params.confidence_window);
        } else {
            agents.add(s.sequence_fork(root, &sp, params.max_tokens), prompt, rep, params.confidence_window);
        }
    }
    s.sequence_park(root);  // kept for a synthesis pass; it generates nothing itself

    // Online DeepConf: the first agents run to the end and set the threshold; any other agent
    // whose window confidence then falls under it is stopped and its cells freed.
    const int n_warmup = params.aggregate != AGGREGATE_KIND_CONFIDENCE ? 0 :
                         params.warmup_agents > 0 ? params.warmup_agents :
                                                    std::max(1, (params.agents + 3) / 4);
    bool   have_threshold = false;
    double threshold      = 0;
    auto   policy = [&](lane & l) {
        if (params.total_budget > 0 && agents.generated() >= params.total_budget) {
            for (auto & other : agents.all()) agents.stop(*other, AGENT_STATUS_BUDGET);
            return;
        }
        if (n_warmup == 0 || n_warmup >= params.agents) return;
        if (!have_threshold && !std::isnan(params.stop_threshold)) {
            threshold      = params.stop_threshold;
            have_threshold = true;
        }
        if (!have_threshold) {
            std::vector<double> lows;
            for (int i = 0; i < n_warmup; ++i) {
                const lane & w = *agents.all()[(size_t) i];
                if (w.running()) return;  // still warming up
                lows.push_back(w.report.lowest_confidence);
            }
            threshold      = percentile(lows, 100.0 - params.keep_percent);
            have_threshold = true;
        }
        if (l.report.index >= n_warmup && l.window.full() && l.window.current() < threshold) {
            agents.stop(l, AGENT_STATUS_STOPPED_EARLY);
        }
    };
    r.ttft_secs = agents.run(t0, policy);
    r.cancelled = agents.cancelled();

    // Aggregate.
    std::vector<answer> answers;
    std::vector<double> weights;
    for (auto & l : agents.all()) {
        auto & rep     = l->report;
        rep.extracted  = rep.stopped_early ? answer{} : answer_extract(rep.content, params.answer);
        answers.push_back(rep.extracted);
        weights.push_back(rep.mean_confidence);
        r.reasoning_tokens += rep.reasoning_tokens;
        r.answer_tokens += rep.answer_tokens;
    }
    if (params.aggregate == AGGREGATE_KIND_CONFIDENCE) {
        // Offline DeepConf: keep the top eta% of the finished traces by lowest-window
        // confidence, and weight their votes by mean confidence.
        std::vector<double> lows;
        for (auto & l : agents.all()) if (!l->report.stopped_early) lows.push_back(l->report.lowest_confidence);
        const double cut = percentile(lows, 100.0 - params.keep_percent);
        for (size_t i = 0; i < answers.size(); ++i) {
            auto & rep = agents.all()[i]->report;
            rep.kept   = !rep.stopped_early && rep.lowest_confidence >= cut;
            if (!rep.kept) answers[i] = answer{};
        }
    }
    const vote_result v = vote(answers, weights, params.aggregate == AGGREGATE_KIND_CONFIDENCE);
    r.final_answer      = v.winner;
    r.agreement         = v.agreement;
    // The answer text: the most confident agent among those that gave the winning answer,
    // or, when nobody gave a readable answer, the most confident finished agent.
    const lane * best = nullptr;
    for (auto & l : agents.all()) {
        const bool supports = std::find(v.supporters.begin(), v.supporters.end(), (size_t) l->report.index) != v.supporters.end();
        if ((v.supporters.empty() ? !l->report.stopped_early : supports) &&
            (!best || l->report.mean_confidence > best->report.mean_confidence)) {
            best = l.get();
        }
    }
    if (best) r.content = best->report.content;

    if (params.aggregate == AGGREGATE_KIND_SYNTHESIZE && !r.cancelled) {
        std::string list;
        int         n = 0;
        for (auto & l : agents.all()) {
            if (l->report.content.empty()) continue;
            list += "\n" + std::to_string(++n) + ". " + text_clip(l->report.content, (size_t) params.synth_answer_chars);
        }
        const std::string suffix = "\n\nSeveral independent attempts answered:" + list +
                                   "\n\nCompare them, resolve any disagreement, and give the single best final answer.";
        agent_report rep;
        rep.index       = params.agents;
        rep.role        = "synthesis";
        rep.seed        = params.sampling.seed;
        rep.temperature = params.sampling.temperature;
        const agent_report srep = pass_run(s, root, request_with_suffix(req, suffix), media,
                                           pass_params(params, params.sampling), rep, params, on_progress, cancel);
        r.content         = srep.content;
        r.final_answer    = srep.extracted.empty() ? r.final_answer : srep.extracted;
        r.reasoning_tokens += srep.reasoning_tokens;
        r.answer_tokens += srep.answer_tokens;
        r.cancelled = r.cancelled || srep.status == AGENT_STATUS_CANCELLED;
        r.agents.push_back(srep);
    }
    for (auto & l : agents.all()) r.agents.push_back(l->report);
    std::sort(r.agents.begin(), r.agents.end(), [](const agent_report & a, const agent_report & b) { return a.index < b.index; });
    agents.release();
    s.sequence_release(root);
    r.wall_secs = secs_since(t0);
    return r;
}

}  // namespace muse::reason
