// reason_run: the mode dispatch, and the single-pass modes (instant, thinking).
#include "engine/error.h"
#include "engine/model.h"
#include "reason/channel.h"
#include "reason/modes.h"
#include "reason/passes.h"

#include <chrono>

namespace muse::reason {

reason_mode reason_mode_parse(const std::string & name) {
    if (name == "instant") return REASON_MODE_INSTANT;
    if (name == "thinking" || name == "think") return REASON_MODE_THINKING;
    if (name == "contemplate" || name == "contemplating") return REASON_MODE_CONTEMPLATE;
    if (name == "orchestrate") return REASON_MODE_ORCHESTRATE;
    throw input_error("mode \"" + name + "\" is not one of instant, thinking, contemplate, orchestrate");
}

const char * reason_mode_name(reason_mode mode) {
    switch (mode) {
        case REASON_MODE_INSTANT:     return "instant";
        case REASON_MODE_THINKING:    return "thinking";
        case REASON_MODE_CONTEMPLATE: return "contemplate";
        case REASON_MODE_ORCHESTRATE: return "orchestrate";
    }
    return "unknown";
}

aggregate_kind aggregate_kind_parse(const std::string & name) {
    if (name == "vote") return AGGREGATE_KIND_VOTE;
    if (name == "confidence") return AGGREGATE_KIND_CONFIDENCE;
    if (name == "synthesize" || name == "synthesis") return AGGREGATE_KIND_SYNTHESIZE;
    throw input_error("aggregate \"" + name + "\" is not one of vote, confidence, synthesize");
}

const char * aggregate_kind_name(aggregate_kind kind) {
    switch (kind) {
        case AGGREGATE_KIND_VOTE:       return "vote";
        case AGGREGATE_KIND_CONFIDENCE: return "confidence";
        case AGGREGATE_KIND_SYNTHESIZE: return "synthesize";
    }
    return "unknown";
}

const char * agent_status_name(agent_status s) {
    switch (s) {
        case AGENT_STATUS_RUNNING:       return "running";
        case AGENT_STATUS_DONE:          return "done";
        case AGENT_STATUS_LENGTH:        return "length";
        case AGENT_STATUS_STOPPED_EARLY: return "stopped early";
        case AGENT_STATUS_BUDGET:        return "budget";
        case AGENT_STATUS_CANCELLED:     return "cancelled";
        case AGENT_STATUS_SKIPPED:       return "skipped";
    }
    return "unknown";
}

void reason_params::validate() const {
    sampling.validate();
    if (agents < 1 || agents > k_max_agents) throw input_error("agents must be between 1 and " + std::to_string(k_max_agents));
    if (max_tokens < 1) throw input_error("max_tokens must be at least 1");
    if (think_budget < -1) throw input_error("think_budget must be -1 (none) or more");
    if (total_budget < -1 || total_budget == 0) throw input_error("total_budget must be -1 (none) or positive");
    if (confidence_top_k < 1 || confidence_top_k > 100) throw input_error("confidence_top_k must be between 1 and 100");
    if (confidence_window < 1) throw input_error("confidence_window must be positive");
    if (warmup_agents < 0 || warmup_agents > agents) throw input_error("warmup_agents must be between 0 and agents");
    if (!(keep_percent > 0.0 && keep_percent <= 100.0)) throw input_error("keep_percent must be in (0, 100]");
    if (!(consensus > 0.0)) throw input_error("consensus must be above 0 (above 1: every agent runs)");
    if (max_subtasks < 1 || max_subtasks > 16) throw input_error("max_subtasks must be between 1 and 16");
    if (temperature_spread < 0.0f || temperature_spread > 2.0f) throw input_error("temperature_spread must be in [0, 2]");
}

double secs_since(clock_point t0) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }

sequence_params pass_params(const reason_params & p, const sampling_params & sampling) {
    sequence_params sp;
    sp.sampling         = sampling;
    sp.max_tokens       = p.max_tokens;
    sp.stop             = p.stop;
    sp.confidence_top_k = p.confidence_top_k;
    return sp;
}

// One pass, to the end, with its channel accounting.
static reason_result single_run(session & s, const chat_request & request, const std::vector<media> & media,
                                const reason_params & params, const progress_fn & on_progress,
                                const std::atomic<bool> * cancel) {
    const auto   t0 = std::chrono::steady_clock::now();
    chat_request req = request;
    req.enable_thinking = params.mode == REASON_MODE_THINKING;
    req.think_budget    = params.mode == REASON_MODE_THINKING ? params.think_budget : -1;
    const chat_prompt prompt = chat_format(s.get_model(), req, s.get_model().media_marker());

    reason_result   r;
    channel_tracker channel(prompt);
    seq_handle      h = s.sequence_add(prompt, media, pass_params(params, params.sampling));
    std::string     raw;
    while (s.sequence_active(h)) {
        if (cancel && cancel->load()) {
            s.sequence_cancel(h);
            r.cancelled = true;
            break;
        }
        for (const auto & ev : s.step()) {
            if (ev.seq != h) continue;
            if (r.ttft_secs == 0) r.ttft_secs = secs_since(t0);
            raw += ev.text;
            const bool was_reasoning = channel.in_reasoning();
            channel.push(ev.text);
            if (on_progress) on_progress({ -1, &ev, was_reasoning });
        }
    }
    const auto parsed  = chat_parse(prompt, raw, false);
    r.content          = parsed.content;
    r.reasoning        = parsed.reasoning;
    r.tool_calls       = parsed.tool_calls;
    r.final_answer     = answer_extract(parsed.content, params.answer);
    r.prompt_tokens    = s.sequence(h).n_prompt;
    r.reasoning_tokens = channel.reasoning_tokens();
    r.answer_tokens    = channel.answer_tokens();
    r.wall_secs        = secs_since(t0);
    r.finish           = s.sequence(h).reason;
    s.sequence_release(h);
    return r;
}

reason_result reason_run(session & s, const chat_request & request, const std::vector<media> & media,
                         const reason_params & params, const progress_fn & on_progress,
                         const std::atomic<bool> * cancel) {
    params.validate();
    switch (params.mode) {
        case REASON_MODE_INSTANT:
        case REASON_MODE_THINKING:    return single_run(s, request, media, params, on_progress, cancel);
        case REASON_MODE_CONTEMPLATE: return contemplate_run(s, request, media, params, on_progress, cancel);
        case REASON_MODE_ORCHESTRATE: return orchestrate_run(s, request, media, params, on_progress, cancel);
    }
    throw std::logic_error("reason_run: unknown mode");
}

}  // namespace muse::reason
