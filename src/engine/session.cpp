#include "engine/session.h"

#include "chat-prompt-impl.h"
#include "common.h"
#include "engine/backend.h"
#include "engine/error.h"
#include "engine/model.h"
#include "engine/sampler.h"
#include "engine/text-stream.h"
#include "llama-cpp.h"
#include "mtmd-helper.h"
#include "mtmd.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

namespace muse {

const char * finish_reason_name(finish_reason reason) {
    switch (reason) {
        case FINISH_REASON_NONE:        return "running";
        case FINISH_REASON_STOP:        return "stop";
        case FINISH_REASON_STOP_STRING: return "stop_string";
        case FINISH_REASON_LENGTH:      return "length";
        case FINISH_REASON_CONTEXT:     return "context";
        case FINISH_REASON_CANCELLED:   return "cancelled";
    }
    return "unknown";
}

namespace {

struct chunks_deleter {
    void operator()(mtmd_input_chunks * c) const { mtmd_input_chunks_free(c); }
};

// What a sequence still has to decode: text tokens, or a media chunk from `chunks`.
struct pending_piece {
    std::vector<llama_token> tokens;
    const mtmd_input_chunk * media = nullptr;
};

enum seq_state {
    SEQ_STATE_PENDING,   // has input to decode
    SEQ_STATE_READY,     // has logits at `logits_idx`, waits to sample
    SEQ_STATE_FINISHED,
};

struct seq_record {
    llama_seq_id                              id = -1;
    seq_state                                 state = SEQ_STATE_PENDING;
    int32_t                                   logits_idx = -1;
    std::vector<pending_piece>                pending;  // front first
    size_t                                    pending_pos = 0;  // tokens of pending.front() already in a batch
    sampler_ptr                               sampler;
    std::shared_ptr<const chat_prompt>        prompt;   // for reseeded forks; may be null
    std::shared_ptr<mtmd_input_chunks>        chunks;   // keeps media chunks alive
    std::set<int32_t>                         preserved;  // special tokens rendered into the text
    sequence_params                           params;
    text_stream                               stream;
    sequence_stats                            stats;
};

}  // namespace

struct session::impl {
    model &                         mdl;
    context_params                  params;
    llama_context_ptr               ctx;
    llama_batch                     batch{};
    std::map<seq_handle, seq_record>  seqs;
    std::vector<llama_seq_id>       free_ids;
    seq_handle                      next_handle = 1;
    int64_t                         n_decoded   = 0;

    impl(model & m, const context_params & p) : mdl(m), params(p) {}
    ~impl() { llama_batch_free(batch); }

    seq_record & get(seq_handle h) {
        auto it = seqs.find(h);
        if (it == seqs.end()) {
            throw std::logic_error("session: unknown sequence " + std::to_string(h));
        }
        return it->second;
    }

    llama_seq_id id_take() {
        if (free_ids.empty()) {
            throw runtime_error("all " + std::to_string(params.n_seq_max) +
                                " sequence slots are in use; finish or cancel one, or raise n_seq_max");
        }
        llama_seq_id id = free_ids.back();
        free_ids.pop_back();
        return id;
    }

    void cells_free(seq_record & s) {
        if (s.id >= 0) {
            llama_memory_seq_rm(llama_get_memory(ctx.get()), s.id, -1, -1);
            free_ids.push_back(s.id);
            s.id = -1;
        }
    }

    void finish(seq_record & s, finish_reason reason, token_event * ev) {
        s.state        = SEQ_STATE_FINISHED;
        s.stats.reason = reason;
        s.pending.clear();
        std::string rest = s.stream.flush();
        s.stats.text += rest;
        if (ev) {
            ev->text += rest;
            ev->finished = true;
            ev->reason   = reason;
        }
        cells_free(s);
    }

    seq_handle add(seq_record && s, int32_t n_prompt_positions) {
        const int32_t n_ctx = llama_n_ctx(ctx.get());
        if (n_prompt_positions >= n_ctx) {
            throw input_error("the prompt is " + std::to_string(n_prompt_positions) + " tokens but the context holds " +
                              std::to_string(n_ctx) + "; shorten the prompt or raise the context size (--ctx-size)");
        }
        if (n_prompt_positions == 0) {
            throw input_error("the prompt is empty; give some text");
        }
        s.params.sampling.validate();
        s.id    = id_take();
        s.state = SEQ_STATE_PENDING;
        s.stream.set_stops(s.params.stop);
        const seq_handle h = next_handle++;
        seqs.emplace(h, std::move(s));
        return h;
    }

    std::string piece(const seq_record & s, llama_token tok) const {
        return common_token_to_piece(ctx.get(), tok, s.preserved.count(tok) > 0);
    }

    void sample(seq_record & s, seq_handle h, std::vector<token_event> & events) {
        const llama_token tok = common_sampler_sample(s.sampler.get(), ctx.get(), s.logits_idx);
        common_sampler_accept(s.sampler.get(), tok, true);
        s.logits_idx = -1;
        s.stats.n_generated++;
        s.stats.tokens.push_back(tok);

        token_event ev;
        ev.seq   = h;
        ev.token = tok;
        if (llama_vocab_is_eog(mdl.vocab(), tok)) {
            finish(s, FINISH_REASON_STOP, &ev);
        } else {
            const bool hit_stop = s.stream.push(piece(s, tok), ev.text);
            s.stats.text += ev.text;
            if (hit_stop) {
                finish(s, FINISH_REASON_STOP_STRING, &ev);
            } else if (s.params.max_tokens >= 0 && s.stats.n_generated >= s.params.max_tokens) {
                finish(s, FINISH_REASON_LENGTH, &ev);
            } else if (s.stats.n_past >= (int32_t) llama_n_ctx(ctx.get())) {
                finish(s, FINISH_REASON_CONTEXT, &ev);
            } else {
                s.pending.push_back({ { tok }, nullptr });
                s.state = SEQ_STATE_PENDING;
            }
        }
        events.push_back(std::move(ev));
    }

    // Media chunks are encoded and decoded on their own (mtmd), once the text before them is in.
    void decode_media(seq_record & s) {
        while (!s.pending.empty() && s.pending.front().media) {
            llama_pos new_n_past = 0;
            const int32_t rc = mtmd_helper_eval_chunk_single(mdl.projector(), ctx.get(), s.pending.front().media,
                                                             s.stats.n_past, s.id, params.n_batch, false, &new_n_past);
            if (rc != 0) {
                throw runtime_error("encoding an image/audio chunk failed (code " + std::to_string(rc) + ")");
            }
            n_decoded += (int64_t) mtmd_input_chunk_get_n_tokens(s.pending.front().media);
            s.stats.n_prompt += (int32_t) mtmd_input_chunk_get_n_tokens(s.pending.front().media);
            s.stats.n_past = new_n_past;
            s.pending.erase(s.pending.begin());
        }
    }

    // Fills the batch: generating sequences first (one token each), then prompt chunks.
    // Returns the sequences that will have logits after the decode, with their batch index.
    std::vector<std::pair<seq_handle, int32_t>> batch_fill(const std::vector<seq_handle> & order) {
        common_batch_clear(batch);
        std::vector<std::pair<seq_handle, int32_t>> outputs;
        for (int pass = 0; pass < 2; ++pass) {
            for (seq_handle h : order) {
                seq_record & s = seqs.at(h);
                if (s.state != SEQ_STATE_PENDING || s.pending.empty() || s.pending.front().media) {
                    continue;
                }
                const bool generating = s.stats.n_generated > 0 || s.pending.front().tokens.size() == 1;
                if ((pass == 0) != generating) {
                    continue;
                }
                auto &       piece = s.pending.front();
                const size_t room  = (size_t) params.n_batch - (size_t) batch.n_tokens;
                const size_t n     = std::min(room, piece.tokens.size() - s.pending_pos);
                if (n == 0) {
                    continue;
                }
                for (size_t i = 0; i < n; ++i) {
                    const bool last = s.pending_pos + i + 1 == piece.tokens.size() && s.pending.size() == 1;
                    common_batch_add(batch, piece.tokens[s.pending_pos + i], s.stats.n_past + (llama_pos) i, { s.id }, last);
                    if (last) {
                        outputs.emplace_back(h, batch.n_tokens - 1);
                    }
                }
                s.pending_pos += n;
                s.stats.n_past += (int32_t) n;
                if (s.stats.n_generated == 0) {
                    s.stats.n_prompt += (int32_t) n;
                }
                if (s.pending_pos == piece.tokens.size()) {
                    s.pending.erase(s.pending.begin());
                    s.pending_pos = 0;
                }
            }
        }
        return outputs;
    }

    // Decodes the batch; on a full KV cache the sequences in it end with FINISH_REASON_CONTEXT.
    void batch_decode(const std::vector<std::pair<seq_handle, int32_t>> & outputs, std::vector<token_event> * events) {
        if (batch.n_tokens == 0) {
            return;
        }
        const int32_t rc = llama_decode(ctx.get(), batch);
        if (rc != 0) {
            std::set<llama_seq_id> in_batch;
            for (int32_t i = 0; i < batch.n_tokens; ++i) {
                in_batch.insert(batch.seq_id[i][0]);
            }
            for (auto & [h, s] : seqs) {
                if (s.state != SEQ_STATE_FINISHED && in_batch.count(s.id)) {
                    if (rc != 1) {
                        throw runtime_error("llama_decode failed (code " + std::to_string(rc) + ")");
                    }
                    token_event ev;
                    ev.seq = h;
                    finish(s, FINISH_REASON_CONTEXT, &ev);
                    if (events) {
                        events->push_back(std::move(ev));
                    }
                }
            }
            return;
        }
        n_decoded += batch.n_tokens;
        for (const auto & [h, idx] : outputs) {
            seq_record & s = seqs.at(h);
            if (s.state == SEQ_STATE_PENDING && s.pending.empty()) {
                s.state      = SEQ_STATE_READY;
                s.logits_idx = idx;
            }
        }
    }
};

session::session(model & mdl, const context_params & params) : impl_(std::make_unique<impl>(mdl, params)) {
    auto & p = impl_->params;
    if (p.n_seq_max < 1 || p.n_seq_max > 256) {
        throw input_error("n_seq_max must be between 1 and 256");
    }
    if (p.n_ctx < 0) {
        throw input_error("the context size must be positive");
    }
    if (p.n_ctx == 0) {
        p.n_ctx = std::min(mdl.info().n_ctx_train > 0 ? mdl.info().n_ctx_train : 4096, 8192);
    }
    if (p.n_batch < 1) {
        throw input_error("the batch size must be positive");
    }
    if (p.n_threads <= 0) {
        p.n_threads = (int32_t) std::max(1u, std::thread::hardware_concurrency());
    }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx                = (uint32_t) p.n_ctx;
    cp.n_batch              = (uint32_t) p.n_batch;
    cp.n_ubatch             = (uint32_t) p.n_batch;
    cp.n_seq_max            = (uint32_t) p.n_seq_max;
    cp.n_threads            = p.n_threads;
    cp.n_threads_batch      = p.n_threads;
    cp.kv_unified           = true;  // forks share the prefix cells
    cp.flash_attn_type      = p.flash_attn ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.no_perf              = true;
    mdl.get_backend().take_last_errors();
    impl_->ctx.reset(llama_init_from_model(mdl.get(), cp));
    if (!impl_->ctx) {
        std::string why = mdl.get_backend().take_last_errors();
        throw runtime_error("could not create a context of " + std::to_string(p.n_ctx) + " tokens" +
                            (why.empty() ? "" : " (" + why + ")") + "; try a smaller --ctx-size");
    }
    impl_->batch = llama_batch_init(p.n_batch, 0, 1);
    for (int32_t i = p.n_seq_max - 1; i >= 0; --i) {
        impl_->free_ids.push_back(i);
    }
}

session::~session() = default;

seq_handle session::sequence_add(const chat_prompt & prompt, const std::vector<media> & media_list,
                                 const sequence_params & params) {
    auto & m = *impl_;
    seq_record s;
    s.params  = params;
    s.prompt  = std::make_shared<const chat_prompt>(prompt.clone());
    s.sampler = sampler_make(m.mdl.get(), params.sampling, &prompt, &s.preserved);
    for (const auto & stop : prompt.get().params.additional_stops) {
        s.params.stop.push_back(stop);
    }
    int32_t n_positions = 0;
    if (media_list.empty()) {
        auto tokens = common_tokenize(m.mdl.vocab(), prompt.text(), true, true);
        n_positions = (int32_t) tokens.size();
        s.pending.push_back({ std::move(tokens), nullptr });
    } else {
        mtmd_context * proj = m.mdl.projector();
        if (!proj) {
            throw input_error("the prompt has images or audio but no projector is loaded; start with --mmproj FILE");
        }
        std::vector<const mtmd_bitmap *> bitmaps;
        for (const auto & md : media_list) {
            bitmaps.push_back(md.bitmap());
        }
        s.chunks.reset(mtmd_input_chunks_init(), chunks_deleter{});
        mtmd_input_text text{ prompt.text().c_str(), true, true };
        const int32_t rc = mtmd_tokenize(proj, s.chunks.get(), &text, bitmaps.data(), bitmaps.size());
        if (rc == 1) {
            throw input_error("the number of images/audio clips (" + std::to_string(media_list.size()) +
                              ") does not match the media placeholders in the prompt");
        }
        if (rc != 0) {
            throw input_error("encoding the images/audio failed (mtmd_tokenize code " + std::to_string(rc) + ")");
        }
        const size_t n_chunks = mtmd_input_chunks_size(s.chunks.get());
        for (size_t i = 0; i < n_chunks; ++i) {
            const mtmd_input_chunk * c = mtmd_input_chunks_get(s.chunks.get(), i);
            if (mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
                size_t             n   = 0;
                const llama_token * tk = mtmd_input_chunk_get_tokens_text(c, &n);
                if (n > 0) {
                    s.pending.push_back({ std::vector<llama_token>(tk, tk + n), nullptr });
                }
            } else {
                s.pending.push_back({ {}, c });
            }
        }
        if (s.pending.empty() || s.pending.back().media) {
            throw input_error("the prompt ends with an image or audio clip; the chat template must add text after it");
        }
        n_positions = (int32_t) mtmd_helper_get_n_pos(s.chunks.get());
    }
    return m.add(std::move(s), n_positions);
}

seq_handle session::sequence_add_text(const std::string & text, const sequence_params & params) {
    return sequence_add_tokens(common_tokenize(impl_->mdl.vocab(), text, true, true), params);
}

seq_handle session::sequence_add_tokens(const std::vector<int32_t> & tokens, const sequence_params & params) {
    auto & m = *impl_;
    const int32_t n_vocab = llama_vocab_n_tokens(m.mdl.vocab());
    for (int32_t t : tokens) {
        if (t < 0 || t >= n_vocab) {
            throw input_error("token id " + std::to_string(t) + " is outside the vocabulary (0.." +
                              std::to_string(n_vocab - 1) + ")");
        }
    }
    seq_record s;
    s.params  = params;
    s.sampler = sampler_make(m.mdl.get(), params.sampling, nullptr, nullptr);
    s.pending.push_back({ tokens, nullptr });
    return m.add(std::move(s), (int32_t) tokens.size());
}

void session::sequence_append_tokens(seq_handle h, const std::vector<int32_t> & tokens) {
    auto &     m = *impl_;
    seq_record & s = m.get(h);
    if (s.state == SEQ_STATE_FINISHED) {
        throw std::logic_error("session: cannot append to a finished sequence");
    }
    const int32_t n_vocab = llama_vocab_n_tokens(m.mdl.vocab());
    for (int32_t t : tokens) {
        if (t < 0 || t >= n_vocab) {
            throw input_error("token id " + std::to_string(t) + " is outside the vocabulary");
        }
    }
    if (s.stats.n_past + (int32_t) tokens.size() >= (int32_t) llama_n_ctx(m.ctx.get())) {
        throw input_error("appending " + std::to_string(tokens.size()) + " tokens to a sequence at position " +
                          std::to_string(s.stats.n_past) + " overflows the context of " +
                          std::to_string(llama_n_ctx(m.ctx.get())));
    }
    if (tokens.empty()) {
        return;
    }
    s.pending.push_back({ tokens, nullptr });
    s.state      = SEQ_STATE_PENDING;
    s.logits_idx = -1;
}

seq_handle session::sequence_fork(seq_handle parent_h, const sampling_params * sampling, int32_t max_tokens) {
    auto &     m      = *impl_;
    seq_record & parent = m.get(parent_h);
    if (parent.state == SEQ_STATE_FINISHED) {
        throw std::logic_error("session: cannot fork a finished sequence");
    }
    seq_record child;
    child.id         = m.id_take();
    child.state      = parent.state;
    child.logits_idx = parent.logits_idx;
    child.pending    = parent.pending;
    child.pending_pos = parent.pending_pos;
    child.prompt     = parent.prompt;
    child.chunks     = parent.chunks;
    child.preserved  = parent.preserved;
    child.params     = parent.params;
    child.stream     = parent.stream;
    child.stats      = parent.stats;
    child.stats.n_shared = parent.stats.n_past;
    child.stats.n_prompt = 0;
    if (max_tokens != -2) {
        child.params.max_tokens = max_tokens;
    }
    if (sampling) {
        child.params.sampling = *sampling;
        child.sampler = sampler_make(m.mdl.get(), *sampling, child.prompt.get(), nullptr);
        for (int32_t tok : parent.stats.tokens) {
            common_sampler_accept(child.sampler.get(), tok, true);
        }
    } else {
        child.sampler.reset(common_sampler_clone(parent.sampler.get()));
    }
    // Tag the parent's cells with the child's id too: the prefix is shared, not copied.
    llama_memory_seq_cp(llama_get_memory(m.ctx.get()), parent.id, child.id, -1, -1);
    const seq_handle h = m.next_handle++;
    m.seqs.emplace(h, std::move(child));
    return h;
}

void session::sequence_cancel(seq_handle h) {
    seq_record & s = impl_->get(h);
    if (s.state != SEQ_STATE_FINISHED) {
        impl_->finish(s, FINISH_REASON_CANCELLED, nullptr);
    }
}

void session::sequence_release(seq_handle h) {
    sequence_cancel(h);
    impl_->seqs.erase(h);
}

const sequence_stats & session::sequence(seq_handle h) const { return impl_->get(h).stats; }
bool session::sequence_finished(seq_handle h) const { return impl_->get(h).state == SEQ_STATE_FINISHED; }

void session::prefill(seq_handle h) {
    auto & m = *impl_;
    for (auto & [other_h, other] : m.seqs) {
        if (other_h != h && other.state == SEQ_STATE_READY) {
            throw std::logic_error("session::prefill: another sequence is waiting to sample");
        }
    }
    seq_record & s = m.get(h);
    while (s.state == SEQ_STATE_PENDING) {
        m.decode_media(s);
        auto outputs = m.batch_fill({ h });
        m.batch_decode(outputs, nullptr);
    }
}

std::vector<token_event> session::step() {
    auto &                   m = *impl_;
    std::vector<token_event> events;
    std::vector<seq_handle>  order;
    for (auto & [h, s] : m.seqs) {
        if (s.state == SEQ_STATE_READY) {
            m.sample(s, h, events);
        }
        if (s.state == SEQ_STATE_PENDING) {
            order.push_back(h);
        }
    }
    for (seq_handle h : order) {
        m.decode_media(m.seqs.at(h));
    }
    auto outputs = m.batch_fill(order);
    m.batch_decode(outputs, &events);
    return events;
}

bool session::has_work() const {
    for (const auto & [h, s] : impl_->seqs) {
        if (s.state != SEQ_STATE_FINISHED) {
            return true;
        }
    }
    return false;
}

int32_t session::n_ctx() const { return (int32_t) llama_n_ctx(impl_->ctx.get()); }
int32_t session::n_seq_max() const { return impl_->params.n_seq_max; }
int32_t session::n_live() const { return impl_->params.n_seq_max - (int32_t) impl_->free_ids.size(); }
int64_t session::n_decoded() const { return impl_->n_decoded; }

int32_t session::kv_pos_max(seq_handle h) const {
    const auto & s = impl_->get(h);
    if (s.id < 0) {
        return -1;
    }
    return llama_memory_seq_pos_max(llama_get_memory(impl_->ctx.get()), s.id);
}

llama_context * session::get() const { return impl_->ctx.get(); }
const model &   session::get_model() const { return impl_->mdl; }

}  // namespace muse
