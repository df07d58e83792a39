#include "reason/lanes.h"

#include "engine/model.h"
#include "reason/prompt-fork.h"

#include <map>

namespace muse::reason {

lane & lanes::add(seq_handle seq, std::shared_ptr<const chat_prompt> prompt, agent_report report, int window) {
    auto l    = std::make_unique<lane>(seq, std::move(prompt), window);
    l->report = std::move(report);
    l->report.status = AGENT_STATUS_RUNNING;
    lanes_.push_back(std::move(l));
    return *lanes_.back();
}

void lanes::finalize(lane & l, finish_reason reason) {
    if (l.report.status == AGENT_STATUS_RUNNING) {
        l.report.status = reason == FINISH_REASON_LENGTH    ? AGENT_STATUS_LENGTH :
                          reason == FINISH_REASON_CANCELLED || reason == FINISH_REASON_ERROR ? AGENT_STATUS_CANCELLED :
                                                              AGENT_STATUS_DONE;
    }
    // The text is final whatever ended it: parse it as complete (a partial parse of a cut-off
    // answer would hide text the agent did write).
    const auto parsed          = chat_parse(*l.prompt, l.raw, false);
    l.report.content           = parsed.content;
    l.report.reasoning         = parsed.reasoning;
    l.report.reasoning_tokens  = l.channel.reasoning_tokens();
    l.report.answer_tokens     = l.channel.answer_tokens();
    l.report.mean_confidence   = l.window.mean();
    l.report.lowest_confidence = l.window.lowest();
}

void lanes::stop(lane & l, agent_status status) {
    if (!l.running()) return;
    l.report.status        = status;
    l.report.stopped_early = status == AGENT_STATUS_STOPPED_EARLY;
    s_.sequence_cancel(l.seq);
    finalize(l, FINISH_REASON_CANCELLED);
}

double lanes::run(clock_point t0, const std::function<void(lane &)> & policy) {
    double                 ttft = 0;
    std::map<seq_handle, lane *> by_seq;
    for (auto & l : lanes_) by_seq[l->seq] = l.get();
    auto any_running = [&] {
        for (auto & l : lanes_) if (l->running()) return true;
        return false;
    };
    while (any_running()) {
        if (!s_.has_work()) {
            // Nothing left to decode (a lane whose sequence never got input): end them.
            for (auto & l : lanes_) if (l->running()) finalize(*l, FINISH_REASON_NONE);
            break;
        }
        if (cancel_ && cancel_->load()) {
            cancelled_ = true;
            for (auto & l : lanes_) stop(*l, AGENT_STATUS_CANCELLED);
            break;
        }
        for (const auto & ev : s_.step()) {
            auto it = by_seq.find(ev.seq);
            if (it == by_seq.end() || !it->second->running()) continue;
            lane & l = *it->second;
            if (ttft == 0) ttft = secs_since(t0);
            generated_++;
            l.raw += ev.text;
            const bool was_reasoning = l.channel.in_reasoning();
            l.channel.push(ev.text);
            l.window.push(ev.confidence);
            if (on_progress_) on_progress_({ l.report.index, &ev, was_reasoning });
            if (ev.finished) {
                finalize(l, ev.reason);
            } else if (policy) {
                policy(l);
            }
        }
    }
    return ttft;
}

agent_report pass_run(session & s, seq_handle root, const chat_request & request, const std::vector<media> & media,
                      const sequence_params & sp, agent_report rep, const reason_params & params,
                      const progress_fn & on_progress, const std::atomic<bool> * cancel, double * ttft) {
    const auto t0     = std::chrono::steady_clock::now();
    auto       prompt = std::make_shared<const chat_prompt>(chat_format(s.get_model(), request, s.get_model().media_marker()));
    lanes      one(s, on_progress, cancel);
    one.add(fork_for_prompt(s, root, *prompt, media, sp), prompt, std::move(rep), params.confidence_window);
    const double first = one.run(t0);
    if (ttft) *ttft = first;
    agent_report out = one.all().front()->report;
    out.extracted    = answer_extract(out.content, params.answer);
    one.release();
    return out;
}

void lanes::release() {
    for (auto & l : lanes_) s_.sequence_release(l->seq);
}

}  // namespace muse::reason
