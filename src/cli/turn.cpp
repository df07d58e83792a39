#include "cli/turn.h"

#include <chrono>
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
                     const std::atomic<bool> * cancel, reason::prompt_cache * cache) {
    turn_result r;
    const auto  t0 = clock_type::now();
    seq_handle  h  = !prompt ? s.sequence_add_text(raw_prompt, sp)
                     : cache ? cache->sequence_add(*prompt, media, sp)
                             : s.sequence_add(*prompt, media, sp);
    s.prefill(h);
    if (cache && prompt && !s.sequence_finished(h)) cache->keep(h);
    r.prefill_secs = secs_since(t0);

    const auto  t1 = clock_type::now();
    std::string shown_reasoning, shown_content;
    while (!s.sequence_finished(h)) {
        if (cancel && cancel->load()) {
            s.sequence_cancel(h);
            break;
        }
        for (const auto & ev : s.step()) {
            if (ev.seq != h) {
                continue;
            }
            r.raw += ev.text;
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
    }
    r.decode_secs = secs_since(t1);
    r.stats       = s.sequence(h);
    r.parsed      = prompt ? chat_parse(*prompt, r.raw, false) : chat_parsed{ r.raw, {}, {} };
    if (out && prompt) {
        // Whatever the final parse holds beyond what streamed (e.g. content held back while
        // it could still have been a tool call).
        print_growth(r.parsed.reasoning, shown_reasoning, &answer_printer::reasoning, out);
        print_growth(r.parsed.content, shown_content, &answer_printer::content, out);
    }
    s.sequence_release(h);
    return r;
}

std::string turn_summary(const turn_result & r) {
    char buf[256];
    const double pp = r.prefill_secs > 0 ? r.stats.n_prompt / r.prefill_secs : 0;
    const double tg = r.decode_secs > 0 ? r.stats.n_generated / r.decode_secs : 0;
    const std::string reused = r.stats.n_shared > 0 ? " (+" + std::to_string(r.stats.n_shared) + " reused)" : "";
    snprintf(buf, sizeof(buf), "prompt %d tok%s %.1f tok/s | answer %d tok %.1f tok/s | %s", r.stats.n_prompt,
             reused.c_str(), pp, r.stats.n_generated, tg, finish_reason_name(r.stats.reason));
    return buf;
}

}  // namespace muse::cli
