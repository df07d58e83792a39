#include "eval/runner.h"

#include "engine/error.h"
#include "engine/model.h"
#include "engine/session.h"
#include "reason/confidence.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace muse::eval {

namespace {

int int_arg(const std::string & text, const std::string & spec, int lo, int hi) {
    size_t used = 0;
    int    v    = 0;
    try {
        v = std::stoi(text, &used);
    } catch (const std::exception &) {
        used = 0;
    }
    if (used != text.size() || v < lo || v > hi) {
        throw input_error("mode \"" + spec + "\": \"" + text + "\" must be a whole number from " + std::to_string(lo) +
                          " to " + std::to_string(hi));
    }
    return v;
}

std::vector<std::string> split(const std::string & s, char sep) {
    std::vector<std::string> out;
    size_t                   a = 0;
    for (size_t b; (b = s.find(sep, a)) != std::string::npos; a = b + 1) out.push_back(s.substr(a, b - a));
    out.push_back(s.substr(a));
    return out;
}

int count_tokens(const model & mdl, const std::string & text) {
    return text.empty() ? 0 : (int) mdl.tokenize(text).size();
}

// One pass of the agent loop: the request formatted, generated on the session, parsed.
agent::step_output step_generate(session & s, const model & mdl, const chat_request & request,
                                 const sequence_params & sp) {
    const chat_prompt  prompt = chat_format(mdl, request, mdl.media_marker());
    const seq_handle   seq    = s.sequence_add(prompt, {}, sp);
    s.run(seq, [](const token_event &) {});
    const sequence_stats & st = s.sequence(seq);
    agent::step_output     out;
    out.parsed            = chat_parse(prompt, st.text, false);
    out.finish            = st.reason;
    out.prompt_tokens     = st.n_prompt;
    out.completion_tokens = st.n_generated;
    out.reasoning_tokens  = count_tokens(mdl, out.parsed.reasoning);
    s.sequence_release(seq);
    return out;
}

}  // namespace

eval_mode eval_mode_parse(const std::string & spec) {
    eval_mode   m;
    m.label          = spec;
    std::string body = spec;
    if (body.size() > 6 && body.ends_with("+tools")) {
        m.tools = true;
        body    = body.substr(0, body.size() - 6);
    }
    const auto parts = split(body, ':');
    const auto bad   = [&] {
        return input_error("unknown mode \"" + spec +
                           "\"; use instant, thinking[:BUDGET], contemplate:N[:vote|confidence[:KEEP%]|synthesize], "
                           "each optionally with +tools");
    };
    if (parts[0] == "instant" && parts.size() == 1) {
        m.reason.mode = reason::REASON_MODE_INSTANT;
    } else if (parts[0] == "thinking" && parts.size() <= 2) {
        m.reason.mode = reason::REASON_MODE_THINKING;
        if (parts.size() == 2) m.reason.think_budget = int_arg(parts[1], spec, 1, 1 << 20);
    } else if (parts[0] == "contemplate" && parts.size() >= 2 && parts.size() <= 4) {
        if (m.tools) throw input_error("mode \"" + spec + "\": +tools goes with instant or thinking only");
        m.reason.mode   = reason::REASON_MODE_CONTEMPLATE;
        m.reason.agents = int_arg(parts[1], spec, 2, reason::k_max_agents);
        if (parts.size() >= 3) m.reason.aggregate = reason::aggregate_kind_parse(parts[2]);
        if (parts.size() == 4) {
            if (m.reason.aggregate != reason::AGGREGATE_KIND_CONFIDENCE) throw bad();
            m.reason.keep_percent = int_arg(parts[3], spec, 1, 100);  // DeepConf's eta: 90 high, 10 low
        }
    } else {
        throw bad();
    }
    return m;
}

std::vector<eval_mode> eval_modes_parse(const std::string & list) {
    std::vector<eval_mode> modes;
    for (const std::string & spec : split(list, ',')) {
        if (!spec.empty()) modes.push_back(eval_mode_parse(spec));
    }
    if (modes.empty()) throw input_error("--modes is empty; name at least one mode, e.g. --modes instant,thinking");
    return modes;
}

void wilson_interval(int k, int n, double & low, double & high) {
    if (n <= 0) {
        low = high = 0;
        return;
    }
    const double z = 1.959963984540054, p = (double) k / n, z2 = z * z / n;
    const double c = (p + z2 / 2) / (1 + z2);
    const double h = z * std::sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / (1 + z2);
    low            = std::max(0.0, c - h);
    high           = std::min(1.0, c + h);
}

std::vector<mode_report> eval_run(session & s, const model & mdl, const std::vector<eval_item> & items,
                                  const eval_options & o, const eval_progress_fn & on_progress,
                                  const std::atomic<bool> * cancel) {
    if (o.repeat < 1) throw input_error("--repeat must be at least 1");
    for (const auto & m : o.modes) {
        if (m.tools && o.tools.empty()) throw input_error("mode \"" + m.label + "\" needs --tools (e.g. --tools python)");
    }
    std::vector<mode_report> reports;
    const size_t             total = o.modes.size() * items.size() * (size_t) o.repeat;
    size_t                   done  = 0;
    for (const auto & mode : o.modes) {
        mode_report rep;
        rep.label = mode.label;
        std::vector<double> secs;
        double              gen_tokens = 0, gen_secs = 0;
        for (int r = 0; r < o.repeat; r++) {
            for (size_t i = 0; i < items.size(); i++) {
                if (cancel && cancel->load()) break;
                const eval_item & item = items[i];
                chat_request      req;
                req.messages.push_back({ "user", item.question, {}, "", {}, "", "" });
                req.enable_thinking = mode.reason.mode != reason::REASON_MODE_INSTANT;
                req.think_budget    = mode.reason.think_budget;
                reason::reason_params rp = mode.reason;
                rp.max_tokens            = o.max_tokens;
                rp.sampling.temperature  = o.temperature;
                rp.sampling.seed         = o.seed + (uint32_t) (i * 1000003u + (size_t) r * 7919u);
                item_outcome out;
                out.item_id = item.id;
                out.repeat  = r;
                const auto t0 = std::chrono::steady_clock::now();
                if (mode.tools) {
                    agent::loop_params lp;
                    lp.tools            = o.tools;
                    lp.context          = o.tool_context;
                    lp.limits.max_steps = o.max_steps;
                    lp.cancel           = cancel;
                    sequence_params sp;
                    sp.sampling   = rp.sampling;
                    sp.max_tokens = o.max_tokens;
                    const auto lo = agent::loop_run(req, lp, [&](const chat_request & q, const agent::step_stream &) {
                        return step_generate(s, mdl, q, sp);
                    });
                    out.content          = lo.last.content;
                    out.reasoning_tokens = lo.reasoning_tokens;
                    out.answer_tokens    = lo.completion_tokens - lo.reasoning_tokens;
                    out.tool_calls       = (int) lo.calls.size();
                } else {
                    const auto res       = reason::reason_run(s, req, {}, rp, {}, cancel);
                    out.content          = res.content;
                    out.reasoning_tokens = res.reasoning_tokens;
                    out.answer_tokens    = res.answer_tokens;
                    out.agreement        = res.agreement;
                }
                out.secs    = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                out.correct = answer_check(item, out.content, &out.got);
                secs.push_back(out.secs);
                gen_tokens += out.reasoning_tokens + out.answer_tokens;
                gen_secs += out.secs;
                rep.n++;
                rep.correct += out.correct;
                rep.reasoning_tokens += out.reasoning_tokens;
                rep.answer_tokens += out.answer_tokens;
                rep.outcomes.push_back(std::move(out));
                if (on_progress) on_progress({ ++done, total, mode.label, rep.correct, rep.n });
            }
        }
        if (rep.n > 0) {
            rep.accuracy = (double) rep.correct / rep.n;
            wilson_interval(rep.correct, rep.n, rep.ci_low, rep.ci_high);
            rep.reasoning_tokens /= rep.n;
            rep.answer_tokens /= rep.n;
        }
        rep.latency_p50  = reason::percentile(secs, 50);
        rep.latency_p90  = reason::percentile(secs, 90);
        rep.tokens_per_s = gen_secs > 0 ? gen_tokens / gen_secs : 0;
        reports.push_back(std::move(rep));
    }
    return reports;
}

}  // namespace muse::eval
