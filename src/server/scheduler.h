#pragma once
// One decode loop per loaded model serves every request (continuous batching): a request
// becomes sequences in the shared session and joins the running batch at the next step.
//
// HTTP handler threads submit jobs and read their events; the loop thread owns the session.
// Plain requests (instant / thinking, n choices) are admitted while sequence slots are free;
// a request with n > 1 decodes its prompt once and forks the other choices from it. A
// reasoning-mode request (contemplate / orchestrate) runs through reason_run on the loop
// thread — one at a time, holding agents + 2 of the same sequence slots — and the plain
// requests keep advancing in the same decode steps through the session's step hooks. Beyond
// the queue bound, submit() refuses with 429.
#include "engine/chat-prompt.h"
#include "engine/media.h"
#include "engine/prefix-cache.h"
#include "engine/session.h"
#include "reason/modes.h"
#include "server/http-error.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace muse::server {

using clock_type = std::chrono::steady_clock;

struct job_params {
    std::shared_ptr<const chat_prompt> prompt;
    std::shared_ptr<const std::vector<muse::media>> media = std::make_shared<const std::vector<muse::media>>();
    sequence_params                    params;       // choice i samples with seed + i
    int                                n = 1;
    double                             timeout_secs = 0;  // 0: none
    // Whose request this is, for the prefix cache: a conversation's cells are reused by its
    // owner only; `cache_tag` (a conversation id) lets them be forgotten with it.
    std::string                        owner;
    std::string                        cache_tag;

    // Reasoning modes that run several passes (contemplate, orchestrate).
    bool                  reasoning_mode = false;
    chat_request          request;
    reason::reason_params reason;
};

struct job_event {
    enum kind_type { TOKEN, PROGRESS } kind = TOKEN;
    int           choice   = 0;   // TOKEN: the choice; PROGRESS: the agent index
    std::string   text;
    bool          finished = false;
    finish_reason reason   = FINISH_REASON_NONE;
    bool          in_reasoning = false;  // PROGRESS
    // TOKEN, with sequence_params::top_logprobs > 0: the token, its log-probability and the
    // most likely tokens (token_event's).
    int32_t                                token   = -1;
    float                                  logprob = 0.0f;
    std::vector<std::pair<int32_t, float>> top_logprobs;
};

// What the handler thread and the loop thread share for one request.
class job {
  public:
    explicit job(job_params p) : params(std::move(p)) {}

    // Handler side. Blocks until the job is running or has failed (then returns its error).
    std::optional<http_error> wait_admitted();
    // Moves the events that arrived into `out`, waiting up to `timeout` for one. Returns
    // false once the job is done and every event was taken.
    bool events_take(std::vector<job_event> & out, std::chrono::milliseconds timeout);
    void cancel() { cancelled = true; }

    job_params params;

    // Filled by the loop before done; read by the handler after events_take returned false.
    int                   prompt_tokens = 0;   // the whole prompt, the cached part included
    int                   cached_tokens = 0;   // of those, taken from the prefix cache
    std::vector<int>      generated;       // per choice
    reason::reason_result reason_result;   // reasoning modes
    std::optional<http_error> failure;     // failed after admission (e.g. a decode error)
    double                ttft_secs = 0;
    bool                  timed_out = false;

    std::atomic<bool> cancelled{ false };

  private:
    friend class scheduler;
    void admitted_set(std::optional<http_error> error);
    void events_push(std::vector<job_event> events);
    void done_set();

    std::mutex              mu_;
    std::condition_variable cv_;
    bool                    admitted_ = false;
    std::optional<http_error> admit_error_;
    std::deque<job_event>   events_;
    bool                    done_ = false;

    // Loop-thread state.
    std::vector<seq_handle> seqs_;
    int                     forks_left_ = 0;
    int                     finished_   = 0;
    clock_type::time_point  submitted_;
    clock_type::time_point  deadline_{};
};

struct scheduler_params {
    int max_sequences = 8;   // sequences of plain requests decoded together
    int queue_max     = 64;  // requests waiting beyond that
    // Conversations' cells kept across requests (engine/prefix-cache.h) in the sequence slots
    // no running request needs, then in RAM and on disk.
    bool                cache = true;
    prefix_cache_params cache_params;
    // Token prefixes every user's requests may copy from (an operator's system prompt), decoded
    // once when the scheduler starts (prefix_cache::share). The session needs a slot for each
    // beyond max_sequences to keep them parked.
    std::vector<std::vector<int32_t>> shared_prefixes;
};

struct scheduler_load {
    int busy  = 0;  // sequences in use by plain requests (+ a running reasoning job's)
    int total = 0;
    int queued = 0;
};

class scheduler {
  public:
    // The session must have n_seq_max >= max_sequences.
    scheduler(session & s, const scheduler_params & params);
    ~scheduler();
    scheduler(const scheduler &)             = delete;
    scheduler & operator=(const scheduler &) = delete;

    // Queues a job. Throws http_error 429 when the queue is full, 400 for n beyond the slots.
    std::shared_ptr<job> submit(job_params params);
    scheduler_load       load() const;
    // Cancels every queued and running job (shutdown): their handlers end within a step.
    void                 cancel_all();
    // Forgets `owner`'s cached cells (those of conversation `tag`, or all for ""), in the
    // session, RAM and on disk; returns once they are gone.
    void                 cache_forget(const std::string & owner, const std::string & tag = "");
    prefix_cache_stats   cache_stats() const;

    // Sequence slots a reasoning-mode job holds: its agents (or sub-agents), the shared root
    // and one pass (synthesis, planner, merger).
    static int reason_need(const reason::reason_params & p);

  private:
    void loop();
    void admit();                                    // start queued plain jobs that fit
    void housekeep();                                // forks, cancels, timeouts
    void route(const std::vector<token_event> & events);
    void job_finish_if_done(job & j);
    void slots_release(int n);                       // a plain job's slots are free again
    void running_prune();                            // finishes and drops the jobs that are done
    void reasoning_run(const std::shared_ptr<job> & j);
    void fail_all(const std::string & why);
    void tasks_run();                                // work handed to the loop thread (cache_forget)

    session &        s_;
    scheduler_params params_;

    mutable std::mutex               mu_;
    std::condition_variable          cv_;
    std::deque<std::shared_ptr<job>> queue_;         // plain jobs waiting for slots
    std::deque<std::shared_ptr<job>> reason_queue_;  // reasoning-mode jobs
    bool                             stopping_ = false;
    std::atomic<bool>                cancel_all_{ false };
    int                              busy_     = 0;  // guarded by mu_ for load()
    int                              reason_busy_ = 0;  // slots held by the running reasoning job
    std::shared_ptr<job>             reason_current_;
    std::deque<std::function<void()>> tasks_;        // run on the loop thread

    // Loop-thread only.
    std::vector<std::shared_ptr<job>>               running_;
    std::map<seq_handle, std::pair<job *, int>>      by_seq_;
    std::unique_ptr<prefix_cache>                   cache_;
    std::thread                                     thread_;
};

}  // namespace muse::server
