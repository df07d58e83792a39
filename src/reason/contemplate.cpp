// Contemplate: N agents reason on one question from one shared prompt, computed once. The
// prompt is prefilled into a root sequence; each agent forks from it (sharing its cells and
// sampling its first token from the root's logits), and all agents advance in the same
// decode steps. Their answers are combined by vote, by confidence (DeepConf), or by a
// synthesis pass forked from the same prompt. With confidence the agents start in stages and
// stop once enough of them agree, so settled questions cost a few traces, not N.
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

// Agent i's report before it runs: its name, seed and temperature.
agent_report agent_named(const reason_params & p, int i) {
    agent_report rep;
    rep.index       = i;
    rep.role        = "agent";
    const auto sp   = agent_sampling(p, i);
    rep.seed        = sp.seed;
    rep.temperature = sp.temperature;
    return rep;
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

    // Agent i: its seed and temperature, and its sequence. Agents of the first stage fork the
    // root while it holds the prompt's logits; later ones take its cells and decode the prompt's
    // last token again (fork_for_prompt), since the root has been parked since.
    lanes agents(s, on_progress, cancel);
    auto  add_agent = [&](int i, bool root_ready) {
        const agent_report rep = agent_named(params, i);
        const auto         sp  = agent_sampling(params, i);
        if (params.perspectives) {
            // The hint goes at the end of the question: everything before it stays shared.
            const std::string hint = std::string("\n\n") + perspective_hints[i % std::size(perspective_hints)];
            auto hp = std::make_shared<const chat_prompt>(
                chat_format(s.get_model(), request_with_suffix(req, hint), s.get_model().media_marker()));
            agents.add(fork_for_prompt(s, root, *hp, media, pass_params(params, sp)), hp, rep, params.confidence_window);
        } else if (root_ready) {
            agents.add(s.sequence_fork(root, &sp, params.max_tokens), prompt, rep, params.confidence_window);
        } else {
            agents.add(fork_for_prompt(s, root, *prompt, media, pass_params(params, sp)), prompt, rep, params.confidence_window);
        }
    };

    // Vote and synthesis start every agent at once: the least latency. Confidence starts them
    // in stages (W, then 2W, 4W, ... in all) and ends when the finished ones agree: on questions
    // the first agents settle, the rest cost nothing (DeepConf's adaptive sampling).
    const bool staged  = params.aggregate == AGGREGATE_KIND_CONFIDENCE;
    const int  n_first = !staged ? params.agents :
                         params.warmup_agents > 0 ? std::min(params.warmup_agents, params.agents) :
                                                    std::min(2, params.agents);
    // Online DeepConf's trace stop (with trace_stop or a fixed threshold): agents after the
    // first stage stop, and free their cells, when their window confidence falls under the
    // threshold the first stage set.
    const bool trace_stop     = staged && (params.trace_stop || !std::isnan(params.stop_threshold));
    bool       have_threshold = !std::isnan(params.stop_threshold);
    double     threshold      = have_threshold ? params.stop_threshold : 0;
    bool       out_of_budget  = false;
    auto       policy = [&](lane & l) {
        if (params.total_budget > 0 && agents.generated() >= params.total_budget) {
            for (auto & other : agents.all()) agents.stop(*other, AGENT_STATUS_BUDGET);
            out_of_budget = true;
            return;
        }
        if (trace_stop && have_threshold && l.report.index >= n_first && l.window.full() &&
            l.window.current() < threshold) {
            agents.stop(l, AGENT_STATUS_STOPPED_EARLY);
        }
    };
    int started = 0;
    for (int stage_end = n_first;; stage_end = std::min(params.agents, stage_end * 2)) {
        const bool first_stage = started == 0;
        for (; started < stage_end; ++started) add_agent(started, first_stage);
        if (first_stage) s.sequence_park(root);  // kept for later stages and a synthesis pass
        const double ttft = agents.run(t0, policy);
        if (first_stage) r.ttft_secs = ttft;
        if (agents.cancelled() || out_of_budget || started == params.agents) break;
        if (first_stage && !have_threshold) {
            std::vector<double> lows;
            for (auto & l : agents.all()) lows.push_back(l->report.lowest_confidence);
            threshold      = percentile(lows, 100.0 - params.keep_percent);
            have_threshold = true;
        }
        std::vector<answer> finished;
        for (auto & l : agents.all()) {
            if (l->report.status == AGENT_STATUS_DONE || l->report.status == AGENT_STATUS_LENGTH) {
                finished.push_back(answer_extract(l->report.content, params.answer));
            }
        }
        const vote_result v = vote(finished);
        if (v.votes >= 2 && (double) v.votes >= params.consensus * (double) finished.size()) break;
    }
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
    for (int i = started; i < params.agents; ++i) {
        agent_report rep = agent_named(params, i);
        rep.status       = out_of_budget ? AGENT_STATUS_BUDGET : r.cancelled ? AGENT_STATUS_CANCELLED : AGENT_STATUS_SKIPPED;
        rep.kept         = false;
        r.agents.push_back(rep);
    }
    std::sort(r.agents.begin(), r.agents.end(), [](const agent_report & a, const agent_report & b) { return a.index < b.index; });
    agents.release();
    s.sequence_release(root);
    r.wall_secs = secs_since(t0);
    return r;
}

}  // namespace muse::reason
