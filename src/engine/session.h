#pragma once
// A session is one llama_context and the sequences that share it.
//
// A sequence owns a range of the (unified) KV cache. `sequence_fork` makes a child that
// shares its parent's KV prefix — the cells are tagged with both sequence ids, nothing is
// recomputed or copied. Every live sequence advances in the same `llama_decode` batch per
// `step()`, each with its own sampler. A finished or cancelled sequence frees its cells at once.
//
// A step is: sample a token for every sequence that has logits, emit the token events, then
// decode one batch holding each generating sequence's new token plus chunks of pending prompts.
// Between steps every live sequence has fresh logits, which is when a fork is cheapest: the
// child samples its first token from the parent's logits.
#include "engine/chat-prompt.h"
#include "engine/media.h"
#include "engine/sampling-params.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

struct llama_context;

namespace muse {

class model;

struct context_params {
    int32_t n_ctx      = 0;      // KV cells shared by all sequences; 0: min(training context, 8192)
    int32_t n_batch    = 512;    // most tokens in one decode
    int32_t n_seq_max  = 8;      // most live sequences
    int32_t n_threads  = 0;      // 0: every core
    // Off by default: measured slower on CPU at depth (see docs/engine.md).
    bool    flash_attn = false;
    // true: one KV pool; forks share their prefix cells (contemplation), but every query
    // attends over every sequence's cells. false: a stream of n_ctx / n_seq_max cells per
    // sequence; a fork copies its prefix. Independent requests decode 1.5x faster split
    // (bench/serve: 36.3 vs 23.6 tok/s at 16 clients).
    bool    kv_unified = true;
    // Prompt tokens that may be decoded while generating sequences wait for their next token;
    // 0: they get one every step. With a KV stream per sequence llama.cpp cannot put one token
    // of each generating sequence and a prompt chunk in one micro-batch, so every mixed step
    // costs an extra pass over the weights; a budget like llama-server's --batch-size (2048)
    // pays it once per budget, at the price of longer pauses in running streams.
    int32_t prefill_budget = 0;
};

// The context size a session gets for `n_ctx` cells asked for: llama.cpp's KV cache grows in
// steps of 256 cells (per sequence when the cache is split). The callers that took the size
// from a user say so when it differs.
int32_t context_size_padded(int32_t n_ctx, int32_t n_seq_max, bool kv_unified);

enum finish_reason {
    FINISH_REASON_NONE,         // still running
    FINISH_REASON_STOP,         // end-of-generation token
    FINISH_REASON_STOP_STRING,  // one of the stop strings
    FINISH_REASON_LENGTH,       // max_tokens reached
    FINISH_REASON_CONTEXT,      // the context is full
    FINISH_REASON_CANCELLED,
    FINISH_REASON_ERROR,        // this sequence's sampling failed (sequence_stats::error); the others go on
};
const char * finish_reason_name(finish_reason reason);

struct sequence_params {
    sampling_params          sampling;
    int32_t                  max_tokens = -1;  // -1: until end of generation or a full context
    std::vector<std::string> stop;             // stop strings (not included in the output)
    // > 0: report each token's confidence over the top-k candidates (DeepConf: the negative
    // mean log-probability of the k most likely tokens; higher is more certain).
    int32_t                  confidence_top_k = 0;
    // > 0: report with each token the log-probabilities of the n most likely tokens of the
    // distribution it was drawn from (before sampling; OpenAI's top_logprobs). At most 20.
    int32_t                  top_logprobs = 0;
    // Keep the KV cells when the sequence finishes, until it is released or kept parked
    // (sequence_keep): a prefix cache takes a finished conversation's cells over this way.
    bool                     keep_cells = false;
};

using seq_handle = int64_t;

struct token_event {
    seq_handle    seq      = -1;
    int32_t       token    = -1;
    std::string   text;            // output text that became final with this token (may be empty)
    bool          finished = false;
    finish_reason reason   = FINISH_REASON_NONE;
    float         logprob    = 0.0f;  // of the sampled token (with confidence_top_k or top_logprobs > 0)
    float         confidence = 0.0f;  // with sequence_params::confidence_top_k > 0
    // With sequence_params::top_logprobs = n > 0: the n most likely tokens, most likely first
    // (of equal ones the lower id), with their log-probabilities.
    std::vector<std::pair<int32_t, float>> top_logprobs;
};

struct sequence_stats {
    int32_t       n_prompt    = 0;   // prompt tokens this sequence decoded itself
    int32_t       n_shared    = 0;   // prompt positions inherited from a parent through fork
    int32_t       n_generated = 0;
    int32_t       n_past      = 0;   // positions in its KV range
    finish_reason reason      = FINISH_REASON_NONE;
    std::string   text;              // all output text so far (stop strings removed)
    std::vector<int32_t> tokens;     // generated tokens
    std::string   error;             // with FINISH_REASON_ERROR: what failed
};

// Hooks for a scheduler that shares the session with whoever else drives it (a reasoning
// mode's loop): `before` runs at the start of every step (admit new sequences, cancel
// abandoned ones), `after` sees every step's events once, whichever caller made the step: the
// sampled tokens before the step's decode, the endings the decode finds after it.
struct step_hooks {
    std::function<void()>                                 before;
    std::function<void(const std::vector<token_event> &)> after;
    // The KV cache has no room for a step's batch: free cells held by something other than
    // the running sequences (a prefix cache's parked ones) and return true to have the decode
    // tried again, false to let the batch's sequences end with FINISH_REASON_CONTEXT.
    std::function<bool()>                                 kv_full;
};

class session {
  public:
    session(model & mdl, const context_params & params);
    ~session();
    session(const session &)             = delete;
    session & operator=(const session &) = delete;

    // A sequence for a chat prompt; `media` are the images/audio the prompt's markers refer to.
    seq_handle sequence_add(const chat_prompt & prompt, const std::vector<media> & media, const sequence_params & params);
    // A sequence for raw text (no chat template); special tokens in `text` are parsed.
    seq_handle sequence_add_text(const std::string & text, const sequence_params & params);
    // A sequence for pre-tokenized input.
    seq_handle sequence_add_tokens(const std::vector<int32_t> & tokens, const sequence_params & params);

    // Appends input to a live sequence (e.g. the next turn of a conversation). A sequence
    // waiting to sample gives up that sample: the new tokens follow its last decoded one.
    void sequence_append_tokens(seq_handle seq, const std::vector<int32_t> & tokens);

    // A child sharing `parent`'s KV prefix. With `sampling`, the child gets its own sampler
    // (replayed over the parent's generated tokens); without, a clone of the parent's.
    seq_handle sequence_fork(seq_handle parent, const sampling_params * sampling = nullptr, int32_t max_tokens = -2);

    // A child holding `parent`'s first `n_keep` positions (shared cells) and nothing to
    // generate until input is appended: how a new prompt that starts like an old one reuses
    // its KV. The child samples as `params` and `prompt` say (its grammar, reasoning tags,
    // stops); `prompt` may be null for raw text. Throws when the cells are gone (sliding-window
    // layers drop old positions).
    seq_handle sequence_fork_prefix(seq_handle parent, int32_t n_keep, const sequence_params & params,
                                    const chat_prompt * prompt);

    // Keeps the sequence's cells but samples nothing until input is appended (a shared prompt
    // that agents fork from). A parked sequence is not work for has_work().
    void sequence_park(seq_handle seq);

    // A finished sequence that kept its cells (sequence_params::keep_cells) becomes parked:
    // its prompt and the tokens it generated stay in the KV cache.
    void sequence_keep(seq_handle seq);

    // A parked sequence starts over as a new one that holds its first `n_keep` positions (the
    // rest of its cells are freed): no cells are copied. It samples as `params` and `prompt`
    // say, and generates once input is appended. Throws as sequence_fork_prefix does.
    void sequence_resume(seq_handle seq, int32_t n_keep, const sequence_params & params, const chat_prompt * prompt);

    // A parked (or kept) sequence's KV cells as bytes (llama_state_seq_get_data), and a new
    // parked sequence made from such bytes and the tokens they hold (llama_state_seq_set_data).
    // Restoring throws runtime_error when llama.cpp refuses the bytes (another model or
    // context layout, no room).
    std::vector<uint8_t> sequence_state_get(seq_handle seq) const;
    seq_handle           sequence_state_set(const std::vector<uint8_t> & state, const std::vector<int32_t> & kv_tokens);

    // The tokens in the sequence's KV range, in position order (-1 where media sits).
    const std::vector<int32_t> & sequence_kv_tokens(seq_handle seq) const;

    // Stops the sequence now and frees its KV cells (also the cells a finished one kept).
    void sequence_cancel(seq_handle seq);
    // Forgets a finished sequence's record.
    void sequence_release(seq_handle seq);

    const sequence_stats & sequence(seq_handle seq) const;
    bool                   sequence_finished(seq_handle seq) const;
    bool                   sequence_active(seq_handle seq) const;  // has input to decode or a token to sample

    // True while the sequence has logits and waits to sample (the moment a fork is cheapest).
    bool                   sequence_ready(seq_handle seq) const;

    // Decodes `seq`'s pending prompt until it has logits, without sampling anything for it.
    // Other sequences waiting to sample: with an `after` hook they are stepped along with it
    // (their events go to the hook); without one that is a logic error.
    void prefill(seq_handle seq);

    void set_step_hooks(step_hooks hooks);

    // One step for all live sequences. Returns the token events of this step.
    std::vector<token_event> step();

    // Runs `seq` alone until it finishes; `on_event` sees each of its events.
    template <typename F> void run(seq_handle seq, F && on_event) {
        while (sequence_active(seq)) {
            for (auto & ev : step()) {
                if (ev.seq == seq) on_event(ev);
            }
        }
    }

    bool    has_work() const;
    int32_t n_ctx() const;      // all cells
    int32_t n_ctx_seq() const;  // the most positions one sequence can hold
    int32_t n_seq_max() const;
    int32_t n_live() const;      // sequence slots in use (running, parked, or finished with kept cells)
    int32_t n_slots_free() const;
    // Highest KV position held by `seq`'s llama sequence id, -1 when it holds none (freed).
    int32_t kv_pos_max(seq_handle seq) const;
    // Tokens decoded so far by this session (every sequence, prompt and generated).
    int64_t n_decoded() const;
    // Wall seconds this session has spent in llama_decode and media encoding: the rest of a
    // run's time is muse's own (sampling, scheduling, text).
    double decode_seconds() const;

    llama_context *        get() const;
    const model &          get_model() const;
    const context_params & params() const;  // as the session took them (the context size padded)

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace muse
