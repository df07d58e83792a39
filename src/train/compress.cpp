#include "train/compress.h"

#include "agent/tools/python.h"
#include "engine/backend.h"
#include "engine/error.h"
#include "engine/model.h"
#include "engine/session.h"
#include "engine/text-trim.h"
#include "reason/modes.h"
#include "train/examples.h"
#include "train/tasks.h"

#include <chrono>
#include <random>

namespace muse::train {

namespace {

void params_check(const compress_params & p) {
    if (p.train.model_path.empty()) throw input_error("the compression stage needs the base model (-m FILE.gguf, F32)");
    if (p.train.out_path.empty()) throw input_error("the compression stage needs an output file (-o FILE.gguf)");
    if (p.problems < 1) throw input_error("--problems must be at least 1");
    if (p.samples < 2 || p.samples > reason::k_max_agents) {
        throw input_error("--samples must be from 2 to " + std::to_string(reason::k_max_agents));
    }
    if (!(p.temperature > 0 && p.temperature <= 2)) throw input_error("--sample-temp must be in (0, 2]");
    if (p.max_tokens < 16) throw input_error("--sample-tokens must be at least 16");
    if (!(p.length_penalty >= 0 && p.length_penalty < 1)) throw input_error("--length-penalty must be in [0, 1)");
}

}  // namespace

compress_result compress_run(const compress_params & p, const compress_sampling_fn & on_sampling,
                             const train_progress_fn & on_train, const std::atomic<bool> * cancel) {
    params_check(p);
    model_f32_check(p.train.model_path);  // before minutes of sampling, not after
    compress_result          r;
    std::vector<std::string> texts;
    double                   ref_sum = 0, kept_sum = 0, sampled_sum = 0;
    {
        backend      be(false);
        model_params mp;
        mp.path = p.train.model_path;
        model mdl(be, mp);
        if (!mdl.info().has_reasoning) {
            throw input_error(p.train.model_path + ": its chat template has no reasoning channel; the compression stage "
                                                   "shortens reasoning, so start from a model muse train wrote");
        }
        context_params cp;
        cp.n_seq_max = p.samples + 2;
        cp.n_ctx     = (p.samples + 1) * (p.max_tokens + 128);
        cp.n_threads = p.train.n_threads;
        session ses(mdl, cp);

        agent::python_tool_options po;
        const chat_tool            python = agent::python_tool(po).definition();
        example_writer             writer(mdl, python);
        // Its own seed: the problems are not the base run's first examples.
        task_generator  gen(TASK_SPLIT_TRAIN, p.train.seed * 1000003 + 11);
        std::mt19937_64 style_rng(p.train.seed * 7919 + 29);
        const auto      t0 = std::chrono::steady_clock::now();
        int64_t         generated = 0;
        for (int32_t i = 0; i < p.problems; i++) {
            if (cancel && cancel->load()) break;
            const task_item it = gen.next();
            // What sampling cannot make here (a tool call, an answer without reasoning) is
            // replayed from the suite, in the base run's proportions.
            const example_style style = example_style_draw(it, p.train.instant_share, style_rng);
            if (it.kind == TASK_KIND_PRODUCT || style == EXAMPLE_STYLE_INSTANT) {
                texts.push_back(writer.text(it, style));
                r.replayed++;
                continue;
            }
            reason::reason_params rp;
            rp.mode                 = reason::REASON_MODE_CONTEMPLATE;
            rp.agents               = p.samples;
            rp.aggregate            = reason::AGGREGATE_KIND_VOTE;
            rp.temperature_spread   = 0;
            rp.max_tokens           = p.max_tokens;
            rp.sampling.temperature = p.temperature;
            rp.sampling.top_k       = 0;
            rp.sampling.top_p       = 1;
            rp.sampling.min_p       = 0;
            rp.sampling.seed        = (uint32_t) (p.train.seed * 7919 + (uint64_t) i * (uint64_t) p.samples);
            const chat_request        req = example_request(it, EXAMPLE_STYLE_THINKING, python);
            const reason::reason_result res = reason::reason_run(ses, req, {}, rp, {}, cancel);
            const double ref = (double) mdl.tokenize(trim(it.reasoning)).size();
            const reason::agent_report * best = nullptr;
            double                       best_reward = 0;
            double best_tokens = 0;
            for (const auto & a : res.agents) {
                if (a.role != "agent") continue;
                generated += a.reasoning_tokens + a.answer_tokens;
                r.samples++;
                const bool correct = a.status == reason::AGENT_STATUS_DONE && trim(a.content) == it.answer &&
                                     !trim(a.reasoning).empty();
                if (!correct) continue;
                r.correct_samples++;
                // Counted as the written trace is (its text tokenized), not as generated
                // (which adds the channel's markers), so the two compare.
                const double tokens = (double) mdl.tokenize(trim(a.reasoning)).size();
                sampled_sum += tokens;
                const double reward = 1.0 - p.length_penalty * tokens / std::max(1.0, ref);
                if (!best || reward > best_reward) {
                    best        = &a;
                    best_reward = reward;
                    best_tokens = tokens;
                }
            }
            r.sampled++;
            if (best) {
                r.solved++;
                ref_sum += ref;
                kept_sum += best_tokens;
                task_item kept = it;
                kept.reasoning = trim(best->reasoning);
                texts.push_back(writer.text(kept, EXAMPLE_STYLE_THINKING));
            }
            if (on_sampling) {
                const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                on_sampling({ i + 1, p.problems, r.solved, secs > 0 ? generated / secs : 0,
                              secs / (i + 1) * (p.problems - i - 1) });
            }
        }
        r.sampling_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    if (r.solved > 0) {
        r.reference_tokens = ref_sum / r.solved;
        r.kept_tokens      = kept_sum / r.solved;
    }
    if (r.correct_samples > 0) r.sampled_tokens = sampled_sum / (double) r.correct_samples;
    if (cancel && cancel->load()) return r;
    if (r.solved == 0) {
        throw input_error(p.train.model_path + ": none of " + std::to_string(r.sampled) +
                          " problems got a correct sample, so there is nothing to fine-tune on; train the base "
                          "model longer first");
    }
    train_params tp = p.train;
    tp.texts        = std::move(texts);
    r.train         = train_run(tp, on_train, cancel);
    return r;
}

}  // namespace muse::train
