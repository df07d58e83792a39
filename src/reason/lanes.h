#pragma once
// Reason-internal: several passes ("lanes") advancing together in one session, each with its
// channel accounting and confidence window; a policy may stop lanes as tokens arrive.
#include "reason/channel.h"
#include "reason/confidence.h"
#include "reason/modes.h"
#include "reason/passes.h"

#include <memory>

namespace muse::reason {

struct lane {
    seq_handle                         seq = -1;
    std::shared_ptr<const chat_prompt> prompt;
    channel_tracker                    channel;
    confidence_window                  window;
    std::string                        raw;
    agent_report                       report;

    lane(seq_handle h, std::shared_ptr<const chat_prompt> p, int window_size) :
        seq(h), prompt(std::move(p)), channel(*prompt), window((size_t) window_size) {}
    bool running() const { return report.status == AGENT_STATUS_RUNNING; }
};

class lanes {
  public:
    lanes(session & s, const progress_fn & on_progress, const std::atomic<bool> * cancel) :
        s_(s), on_progress_(on_progress), cancel_(cancel) {}

    lane & add(seq_handle seq, std::shared_ptr<const chat_prompt> prompt, agent_report report, int window);

    // Steps until every lane has ended. `policy` runs after each token of a lane and may
    // call stop(). Returns the time of the first token (seconds since t0).
    double run(clock_point t0, const std::function<void(lane &)> & policy = {});

    // Ends a running lane now (its cells are freed) with `status`.
    void stop(lane & l, agent_status status);

    std::vector<std::unique_ptr<lane>> & all() { return lanes_; }
    int  generated() const { return generated_; }
    bool cancelled() const { return cancelled_; }
    void release();  // frees every lane's sequence

  private:
    void finalize(lane & l, finish_reason reason);

    session &                          s_;
    const progress_fn &                on_progress_;
    const std::atomic<bool> *          cancel_;
    std::vector<std::unique_ptr<lane>> lanes_;
    int                                generated_ = 0;
    bool                               cancelled_ = false;
};

// One pass for `request`, forked from the parked `root` (sharing the longest common prefix),
// run to its end. `rep` names it (index, role, seed); the returned report has its text,
// counts and extracted answer. `ttft`, if given, receives the time of its first token.
agent_report pass_run(session & s, seq_handle root, const chat_request & request, const std::vector<media> & media,
                      const sequence_params & sp, agent_report rep, const reason_params & params,
                      const progress_fn & on_progress, const std::atomic<bool> * cancel, double * ttft = nullptr);

}  // namespace muse::reason
