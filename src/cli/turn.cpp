#include "cli/turn.h"

#include "reason/channel.h"

#include <chrono>
#include <memory>
#include <cstdio>

namespace muse::cli {

using clock_type = std::chrono::steady_clock;

static double secs_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

// Prints what grew since the last parse; text that a later parse revises is not taken back.
static void print_growth(const std::string & now, std::string & shown, void (answer_printer::*emit)(const std::string &),
                         answer_printer * out) {
    if (now.size() > shown.size() && now.compare(0, shown.size(), shown) == 0) {
        (out->*emit)(now.substr(shown.size()));
        shown = now;
    }
}

turn_result turn_run(session & s, const chat_prompt * prompt, const std::string & raw_prompt,
                     const std::vector<media> & media, const sequence_params & sp, answer_printer * out,
                     const std::atomic<bool> * cancel, prefix_cache * cache, const safety::checker * policy) {
    turn_result     r;
    const auto      t0 = clock_type::now();
    sequence_params params = sp;
    params.keep_cells      = cache && prompt;
    seq_handle h = !prompt ? s.sequence_add_text(raw_prompt, params)
                   : cache ? cache->sequence_add("", *prompt, media, params)
                           : s.sequence_add(*prompt, media, params);
    s.prefill(h);
    r.prefill_secs = secs_since(t0);

    const auto  t1 = clock_type::now();
    std::string shown_reasoning, shown_content;
    std::unique_ptr<reason::channel_tracker> channel;
    if (prompt) channel = std::make_unique<reason::channel_tracker>(*prompt);
    std::unique_ptr<safety::stream_checker> check;
    if (policy && policy->policy_of().check_output) check = std::make_unique<safety::stream_checker>(*policy, std::vector<safety::guard_turn>{});
    size_t checked = 0;  // of r.raw
    while (!s.sequence_finished(h)) {
        if (cancel && cancel->load()) {
            s.sequence_cancel(h);
            break;
        }
        for (const auto & ev : s.step()) {
            if (ev.seq != h) {
                continue;
            }
            if (r.ttft_secs == 0) r.ttft_secs = secs_since(t0);
            r.raw += ev.text;
            if (channel) channel->push(ev.text);
            if (check && r.stopped.action == safety::POLICY_ACTION_ALLOW) {
                r.stopped = check->push(r.raw.substr(checked));
                checked   = r.raw.size();
                if (r.stopped.blocked()) {
                    s.sequence_cancel(h);
                    out = nullptr;  // nothing more of it is shown
                    break;
                }
                r.stopped = {};
            }
            if (!out) {
                continue;
            }
            if (!prompt) {
                out->content(ev.text);
                continue;
            }
            chat_parsed partial = chat_parse(*prompt, r.raw, !ev.finished);
            print_growth(partial.reasoning, shown_reasoning, &answer_printer::reasoning, out);
            print_growth(partial.content, shown_content, &answer_printer::content, out);
        }
        if (r.stopped.blocked()) break;  // cancelled: the sequence stopped
    }
    r.decode_secs = secs_since(t1);
    if (channel) r.reasoning_tokens = channel->reasoning_tokens();
    r.stats       = s.sequence(h);
    r.parsed      = prompt ? chat_parse(*prompt, r.raw, false) : chat_parsed{ r.raw, {}, {} };
    if (check && !r.stopped.blocked()) r.stopped = check->finish();
    if (r.stopped.blocked()) out = nullptr;
    if (out && prompt) {
        // Whatever the final parse holds beyond what streamed (e.g. content held back while
        // it could still have been a tool call).
        print_growth(r.parsed.reasoning, shown_reasoning, &answer_printer::reasoning, out);
        print_growth(r.parsed.content, shown_content, &answer_printer::content, out);
    }
    if (params.keep_cells && !r.stopped.blocked()) {
        cache->keep("", "", h);  // the next turn starts from these cells
    } else {
        s.sequence_release(h);
    }
    return r;
}

std::string summary_line(const run_summary & s) {
    const auto fmt = [](const char * f, auto... args) {
        char buf[128];
        snprintf(buf, sizeof(buf), f, args...);
        return std::string(buf);
    };
    std::string out = s.mode.empty() ? "" : s.mode + " | ";
    out += fmt("prompt %d tok", s.prompt_tokens);
    if (s.reused_tokens > 0) out += fmt(" (+%d reused)", s.reused_tokens);
    if (s.prompt_shared) out += " (shared)";
    if (s.prefill_secs > 0 && s.prompt_tokens > 0) out += fmt(" %.1f tok/s", s.prompt_tokens / s.prefill_secs);
    out += fmt(" | reasoning %d tok | answer %d tok", s.reasoning_tokens, s.answer_tokens);
    if (s.decode_secs > 0) out += fmt(" %.1f tok/s", (s.reasoning_tokens + s.answer_tokens) / s.decode_secs);
    out += fmt(" | first token %.2f s | wall %.2f s", s.ttft_secs, s.wall_secs);
    if (!s.finish.empty()) out += " | " + s.finish;
    if (s.agreement >= 0) out += fmt(" | agreement %.0f%%", 100.0 * s.agreement);
    if (s.seed >= 0) out += fmt(" | seed %lld", (long long) s.seed);
    return out;
}

std::string turn_summary(const turn_result & r, const std::string & mode, int64_t seed) {
    run_summary s;
    s.mode             = mode;
    s.prompt_tokens    = r.stats.n_prompt;
    s.reused_tokens    = r.stats.n_shared;
    s.prefill_secs     = r.prefill_secs;
    s.reasoning_tokens = r.reasoning_tokens;
    s.answer_tokens    = r.stats.n_generated - r.reasoning_tokens;
    s.decode_secs      = r.decode_secs;
    s.ttft_secs        = r.ttft_secs;
    s.wall_secs        = r.prefill_secs + r.decode_secs;
    s.finish           = finish_reason_name(r.stats.reason);
    s.seed             = seed;
    return summary_line(s);
}

}  // namespace muse::cli
