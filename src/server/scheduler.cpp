#include "server/scheduler.h"

#include "engine/error.h"

#include <algorithm>
#include <cstdio>

namespace muse::server {

// --- job ----------------------------------------------------------------------------------

std::optional<http_error> job::wait_admitted() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return admitted_ || admit_error_.has_value(); });
    return admit_error_;
}

bool job::events_take(std::vector<job_event> & out, std::chrono::milliseconds timeout) {
    std::unique_lock lk(mu_);
    if (events_.empty() && !done_) {
        cv_.wait_for(lk, timeout, [&] { return !events_.empty() || done_; });
    }
    const bool had = !events_.empty();
    for (auto & ev : events_) out.push_back(std::move(ev));
    events_.clear();
    return had || !done_;
}

void job::admitted_set(std::optional<http_error> error) {
    std::lock_guard lk(mu_);
    if (error) {
        admit_error_ = std::move(error);
        done_        = true;
    } else {
        admitted_ = true;
    }
    cv_.notify_all();
}

void job::events_push(std::vector<job_event> events) {
    std::lock_guard lk(mu_);
    for (auto & ev : events) events_.push_back(std::move(ev));
    cv_.notify_all();
}

void job::done_set() {
    std::lock_guard lk(mu_);
    done_ = true;
    cv_.notify_all();
}

// --- scheduler ----------------------------------------------------------------------------

scheduler::scheduler(session & s, const scheduler_params & params) : s_(s), params_(params) {
    if (s.n_seq_max() < params.max_sequences) {
        throw std::logic_error("scheduler: the session needs max_sequences sequence slots");
    }
    if (params_.cache) {
        cache_ = std::make_unique<prefix_cache>(s_, params_.cache_params);
        for (const auto & tokens : params_.shared_prefixes) cache_->share(tokens);  // before the loop runs
    }
    s_.set_step_hooks({ [this] { admit(); housekeep(); },
                        [this](const std::vector<token_event> & events) { route(events); },
                        // Only one pool is shared: a full stream (--kv split) is not helped by others' cells.
                        [this] { return cache_ && s_.params().kv_unified && cache_->cells_give_back(); } });
    thread_ = std::thread([this] { loop(); });
}

scheduler::~scheduler() {
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
        for (auto & j : queue_) j->cancel();
        for (auto & j : reason_queue_) j->cancel();
        if (reason_current_) reason_current_->cancel();
    }
    cv_.notify_all();
    thread_.join();
    s_.set_step_hooks({});
    if (cache_) {
        try {
            cache_->persist();  // with --cache-disk, the conversations are there at the next start
        } catch (const std::exception & e) {
            fprintf(stderr, "muse serve: the prefix cache could not be written to disk: %s\n", e.what());
        }
    }
    cache_.reset();  // its parked cells go while the session is still there
}

int scheduler::reason_need(const reason::reason_params & p) {
    return (p.mode == reason::REASON_MODE_ORCHESTRATE ? p.max_subtasks : p.agents) + 2;
}

std::shared_ptr<job> scheduler::submit(job_params p) {
    if (p.reasoning_mode) {
        const int need = reason_need(p.reason);
        if (need > params_.max_sequences) {
            throw http_error(400, std::to_string(need) + " sequence slots are needed (agents + 2); this server decodes at most " +
                                      std::to_string(params_.max_sequences) + " (its --max-concurrency)", "muse.agents");
        }
    } else if (p.n < 1 || p.n > params_.max_sequences) {
        throw http_error(400, "n must be between 1 and " + std::to_string(params_.max_sequences) +
                              " (the server's --max-concurrency)", "n");
    }
    auto j        = std::make_shared<job>(std::move(p));
    j->submitted_ = clock_type::now();
    if (j->params.timeout_secs > 0) {
        j->deadline_ = j->submitted_ + std::chrono::duration_cast<clock_type::duration>(
                                           std::chrono::duration<double>(j->params.timeout_secs));
    }
    {
        std::lock_guard lk(mu_);
        if (stopping_ || cancel_all_) throw http_error(503, "the server is shutting down");
        if ((int) (queue_.size() + reason_queue_.size()) >= params_.queue_max) {
            http_error e(429, "the server is busy: " + std::to_string(params_.queue_max) +
                                  " requests are already waiting; retry shortly", "", "queue_full");
            e.retry_after = 1;
            throw e;
        }
        (j->params.reasoning_mode ? reason_queue_ : queue_).push_back(j);
    }
    cv_.notify_all();
    return j;
}

scheduler_load scheduler::load() const {
    std::lock_guard lk(mu_);
    return { busy_ + reason_busy_, params_.max_sequences, (int) (queue_.size() + reason_queue_.size()) };
}

void scheduler::cancel_all() {
    {
        std::lock_guard lk(mu_);
        for (auto & j : queue_) j->cancel();
        for (auto & j : reason_queue_) j->cancel();
        if (reason_current_) reason_current_->cancel();
    }
    cancel_all_ = true;
    cv_.notify_all();
}

void scheduler::cache_forget(const std::string & owner, const std::string & tag) {
    if (!cache_) return;
    auto done = std::make_shared<std::promise<void>>();
    auto gone = done->get_future();
    {
        std::lock_guard lk(mu_);
        if (stopping_) return;
        tasks_.push_back([this, owner, tag, done] {
            cache_->forget(owner, tag);
            done->set_value();
        });
    }
    cv_.notify_all();
    gone.wait();
}

prefix_cache_stats scheduler::cache_stats() const { return cache_ ? cache_->stats() : prefix_cache_stats{}; }

void scheduler::tasks_run() {
    std::deque<std::function<void()>> tasks;
    {
        std::lock_guard lk(mu_);
        tasks.swap(tasks_);
    }
    for (auto & t : tasks) t();
}

void scheduler::loop() {
    for (;;) {
        std::shared_ptr<job> reasoning;
        tasks_run();
        {
            std::unique_lock lk(mu_);
            if (stopping_) break;
            if (running_.empty() && queue_.empty() && reason_queue_.empty()) {
                cv_.wait(lk, [&] { return stopping_ || !queue_.empty() || !reason_queue_.empty() || !tasks_.empty(); });
                continue;
            }
            // A reasoning job starts when its slots are free; until then plain jobs wait too
            // (admit()), so that the running ones drain and it is not starved.
            if (!reason_queue_.empty() && !reason_current_ &&
                busy_ + reason_need(reason_queue_.front()->params.reason) <= params_.max_sequences) {
                reasoning = reason_queue_.front();
                reason_queue_.pop_front();
            }
        }
        try {
            if (reasoning) {
                reasoning_run(reasoning);
                continue;
            }
            admit();
            housekeep();
            if (s_.has_work()) {
                s_.step();
            } else {
                // Jobs wait for slots held by nothing decodable (should not last): yield.
                std::unique_lock lk(mu_);
                cv_.wait_for(lk, std::chrono::milliseconds(5));
            }
        } catch (const std::exception & e) {
            fail_all(e.what());
        }
    }
    fail_all("the server is shutting down");
    tasks_run();  // a forget that came in last still happens
}

void scheduler::slots_release(int n) {
    std::lock_guard lk(mu_);
    busy_ -= n;
}

void scheduler::admit() {
    std::vector<std::shared_ptr<job>> start;
    {
        std::lock_guard lk(mu_);
        while (!queue_.empty()) {
            auto & j = queue_.front();
            if (j->cancelled) {
                j->admitted_set(http_error(499, "the client went away before the request started"));
                queue_.pop_front();
                continue;
            }
            if (!reason_queue_.empty() && !reason_current_) break;  // a reasoning job waits for slots
            if (busy_ + reason_busy_ + j->params.n > params_.max_sequences) break;
            busy_ += j->params.n;
            start.push_back(j);
            queue_.pop_front();
        }
    }
    for (auto & j : start) {
        try {
            seq_handle root = -1;
            if (cache_) {
                // The cache frees a slot only when the request needs one: a conversation that goes
                // on takes its own parked slot over (bench/chat: freeing one up front pushed another
                // user's conversation out to RAM on every turn). n > 1: the forks make their room.
                auto params       = j->params.params;
                params.keep_cells = true;
                root = cache_->sequence_add(j->params.owner, *j->params.prompt, *j->params.media, params);
            } else {
                root = s_.sequence_add(*j->params.prompt, *j->params.media, j->params.params);
            }
            j->seqs_.push_back(root);
            by_seq_[root]  = { j.get(), 0 };
            j->forks_left_ = j->params.n - 1;
            j->generated.assign((size_t) j->params.n, 0);
            running_.push_back(j);
            j->admitted_set(std::nullopt);
        } catch (const input_error & e) {
            slots_release(j->params.n);
            const std::string msg = e.what();
            const bool too_long = msg.find("context holds") != std::string::npos;
            j->admitted_set(http_error(422, msg, "messages", too_long ? "context_length_exceeded" : "unprocessable"));
        } catch (const std::exception & e) {
            // This request alone fails; the batch goes on.
            slots_release(j->params.n);
            j->admitted_set(http_error(500, std::string("the request could not start: ") + e.what()));
        }
    }
}

void scheduler::housekeep() {
    const auto now = clock_type::now();
    if (cancel_all_) {
        for (auto & jp : running_) jp->cancel();
    }
    for (auto & jp : running_) {
        job & j = *jp;
        const seq_handle root = j.seqs_.front();
        if (j.forks_left_ > 0 && s_.sequence_ready(root)) {
            // The prompt is decoded once; the other choices fork from it and sample their
            // first token from the same logits.
            if (cache_) cache_->slots_make(j.params.n - 1);
            for (int i = 1; i < j.params.n; ++i) {
                sampling_params sp = j.params.params.sampling;
                if (sp.seed != 0xFFFFFFFF) sp.seed += (uint32_t) i;
                const seq_handle child = s_.sequence_fork(root, &sp, j.params.params.max_tokens);
                j.seqs_.push_back(child);
                by_seq_[child] = { &j, i };
            }
            j.forks_left_ = 0;
        }
        const bool timed_out = j.deadline_ != clock_type::time_point{} && now >= j.deadline_;
        if (j.forks_left_ > 0 && s_.sequence_finished(root)) {
            // The prompt never got its logits (the context filled): every choice ends alike.
            std::vector<job_event> evs;
            for (int i = 1; i < j.params.n; ++i) {
                evs.push_back({ job_event::TOKEN, i, "", true, s_.sequence(root).reason, false });
            }
            j.finished_ += j.forks_left_;
            j.forks_left_ = 0;
            j.events_push(std::move(evs));
        }
        if (j.cancelled || timed_out) {
            j.timed_out = !j.cancelled && timed_out;
            const finish_reason why = j.timed_out ? FINISH_REASON_LENGTH : FINISH_REASON_CANCELLED;
            std::vector<job_event> evs;
            for (size_t i = 0; i < j.seqs_.size(); ++i) {
                if (!s_.sequence_finished(j.seqs_[i])) {
                    s_.sequence_cancel(j.seqs_[i]);
                    evs.push_back({ job_event::TOKEN, (int) i, "", true, why, false });
                    j.finished_++;
                }
            }
            for (int i = (int) j.seqs_.size(); i < j.params.n; ++i) {
                evs.push_back({ job_event::TOKEN, i, "", true, why, false });
                j.finished_++;
            }
            j.forks_left_ = 0;
            j.events_push(std::move(evs));
        }
    }
    running_prune();
    if (reason_current_ && reason_current_->deadline_ != clock_type::time_point{} &&
        now >= reason_current_->deadline_ && !reason_current_->cancelled) {
        reason_current_->timed_out = true;
        reason_current_->cancel();
    }
}

void scheduler::route(const std::vector<token_event> & events) {
    std::map<job *, std::vector<job_event>> out;
    for (const auto & ev : events) {
        auto it = by_seq_.find(ev.seq);
        if (it == by_seq_.end()) continue;  // a reasoning job's sequence
        auto [j, choice] = it->second;
        if (j->ttft_secs == 0) {
            j->ttft_secs = std::chrono::duration<double>(clock_type::now() - j->submitted_).count();
        }
        out[j].push_back({ job_event::TOKEN, choice, ev.text, ev.finished, ev.reason, false, ev.token, ev.logprob,
                           ev.top_logprobs });
        if (ev.finished) j->finished_++;
    }
    for (auto & [j, evs] : out) j->events_push(std::move(evs));
    running_prune();
}

void scheduler::running_prune() {
    for (size_t i = 0; i < running_.size();) {
        auto jp = running_[i];
        job_finish_if_done(*jp);
        if (jp->done_) {
            running_.erase(running_.begin() + (long) i);
        } else {
            ++i;
        }
    }
}

void scheduler::job_finish_if_done(job & j) {
    if (j.done_ || j.forks_left_ > 0 || j.finished_ < j.params.n) return;
    const auto & root = s_.sequence(j.seqs_.front());
    for (const auto h : j.seqs_) {
        // A choice whose sampling failed fails its request (500), no other.
        if (s_.sequence(h).reason == FINISH_REASON_ERROR && !j.failure) j.failure = http_error(500, s_.sequence(h).error);
    }
    j.prompt_tokens   = root.n_prompt + root.n_shared;
    j.cached_tokens   = root.n_shared;
    for (size_t i = 0; i < j.seqs_.size(); ++i) {
        j.generated[i] = s_.sequence(j.seqs_[i]).n_generated;
        by_seq_.erase(j.seqs_[i]);
        if (i == 0 && cache_) {
            cache_->keep(j.params.owner, j.params.cache_tag, j.seqs_[i]);  // the conversation's next turn starts here
        } else {
            s_.sequence_release(j.seqs_[i]);
        }
    }
    slots_release(j.params.n);
    if (cache_ && reason_busy_ > 0) cache_->slots_make(reason_busy_);  // a running reasoning job's slots stay free
    j.done_set();
    cv_.notify_all();
}

void scheduler::reasoning_run(const std::shared_ptr<job> & jp) {
    job & j = *jp;
    if (j.cancelled) {
        j.admitted_set(http_error(499, "the client went away before the request started"));
        return;
    }
    {
        std::lock_guard lk(mu_);
        reason_current_ = jp;
        reason_busy_    = reason_need(j.params.reason);
    }
    if (cache_) cache_->slots_make(reason_need(j.params.reason));
    j.admitted_set(std::nullopt);
    auto progress = [&](const reason::agent_progress & p) {
        if (j.ttft_secs == 0) {
            j.ttft_secs = std::chrono::duration<double>(clock_type::now() - j.submitted_).count();
        }
        job_event ev;
        ev.kind         = job_event::PROGRESS;
        ev.choice       = p.agent;
        ev.text         = p.event->text;
        ev.finished     = p.event->finished;
        ev.reason       = p.event->reason;
        ev.in_reasoning = p.in_reasoning;
        j.events_push({ std::move(ev) });
    };
    try {
        j.reason_result = reason::reason_run(s_, j.params.request, *j.params.media, j.params.reason, progress, &j.cancelled);
        j.prompt_tokens = j.reason_result.prompt_tokens;
    } catch (const input_error & e) {
        j.failure = http_error(422, e.what(), "muse");
    } catch (const std::exception & e) {
        j.failure = http_error(500, std::string("the reasoning run failed: ") + e.what());
    }
    {
        std::lock_guard lk(mu_);
        reason_current_.reset();
        reason_busy_ = 0;
    }
    j.done_set();
}

void scheduler::fail_all(const std::string & why) {
    for (auto & jp : running_) {
        for (seq_handle h : jp->seqs_) {
            by_seq_.erase(h);
            try {
                s_.sequence_release(h);
            } catch (const std::exception &) {
            }
        }
        jp->failure = http_error(500, "decoding failed: " + why);
        slots_release(jp->params.n);
        jp->done_set();
    }
    running_.clear();
}

}  // namespace muse::server
