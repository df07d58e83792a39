#include "engine/embedder.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "engine/backend.h"
#include "engine/error.h"
#include "engine/model.h"
#include "engine/model-load.h"
#include "llama-cpp.h"

namespace muse {

namespace {

// Most inputs one llama_decode carries: each is a sequence of its own, and the unified KV
// cache holds them side by side.
constexpr int32_t max_seqs_per_batch = 64;
constexpr int32_t default_max_ctx    = 8192;

// llama_batch has no deleter in llama-cpp.h.
struct batch_holder {
    llama_batch batch;
    explicit batch_holder(int32_t n_tokens) : batch(llama_batch_init(n_tokens, 0, 1)) {}
    ~batch_holder() { llama_batch_free(batch); }
    batch_holder(const batch_holder &)             = delete;
    batch_holder & operator=(const batch_holder &) = delete;
};

std::string meta_str(const llama_model * m, const std::string & key) {
    char          buf[512];
    const int32_t n = llama_model_meta_val_str(m, key.c_str(), buf, sizeof(buf));
    return n < 0 ? std::string() : std::string(buf);
}

const char * pooling_name(enum llama_pooling_type p) {
    switch (p) {
        case LLAMA_POOLING_TYPE_MEAN:
            return "mean";
        case LLAMA_POOLING_TYPE_CLS:
            return "cls";
        case LLAMA_POOLING_TYPE_LAST:
            return "last";
        default:
            return "?";
    }
}

// Scales `v` to unit length in place. A zero vector stays zero: it has no direction to keep.
void l2_normalize(std::vector<float> & v) {
    double sum = 0.0;
    for (float x : v)
        sum += (double)x * x;
    if (!std::isfinite(sum)) {
        throw runtime_error(
            "the embedding model produced a non-finite vector (inf or NaN); the model file is damaged "
            "or not an embedding model");
    }
    if (sum == 0.0)
        return;
    const float inv = (float)(1.0 / std::sqrt(sum));
    for (float & x : v)
        x *= inv;
}

}  // namespace

struct embedder::impl {
    backend &                     be;
    llama_model_ptr               llama;
    llama_context_ptr             ctx;
    std::unique_ptr<batch_holder> batch;
    int32_t                       n_seq_max = 1;

    explicit impl(backend & b) : be(b) {}

    // Decodes inputs [first, last) together, one sequence each, and stores their vectors.
    void batch_run(const std::vector<std::vector<int32_t>> & inputs, size_t first, size_t last, int32_t dims,
                   std::vector<std::vector<float>> & out) {
        llama_batch & b = batch->batch;
        b.n_tokens      = 0;
        for (size_t i = first; i < last; ++i) {
            const auto &  toks = inputs[i];
            const int32_t seq  = (int32_t)(i - first);
            for (size_t p = 0; p < toks.size(); ++p) {
                const int32_t k = b.n_tokens++;
                b.token[k]      = toks[p];
                b.pos[k]        = (llama_pos)p;
                b.n_seq_id[k]   = 1;
                b.seq_id[k][0]  = seq;
                b.logits[k]     = true;  // pooling reads every token's state
            }
        }
        // Each batch starts from an empty cache: the inputs are independent.
        llama_memory_clear(llama_get_memory(ctx.get()), true);
        be.take_last_errors();
        const int32_t rc = llama_decode(ctx.get(), b);
        if (rc != 0) {
            const std::string why = be.take_last_errors();
            throw runtime_error("the embedding model failed to decode inputs " + std::to_string(first) + ".." +
                                std::to_string(last - 1) + " (llama_decode returned " + std::to_string(rc) +
                                (why.empty() ? "" : ": " + why) + "); retry with fewer inputs");
        }
        for (size_t i = first; i < last; ++i) {
            const float * e = llama_get_embeddings_seq(ctx.get(), (llama_seq_id)(i - first));
            if (!e) {
                throw runtime_error("the embedding model returned no vector for input " + std::to_string(i) +
                                    "; its context pools nothing (pooling type none)");
            }
            std::vector<float> v(e, e + dims);
            l2_normalize(v);
            out[i] = std::move(v);
        }
    }
};

embedder::embedder(backend & be, const embedder_params & params) : impl_(std::make_unique<impl>(be)) {
    gguf_file_check(params.path, "embedding model");
    if (params.n_ctx < 0) {
        throw input_error("the embedding context size is " + std::to_string(params.n_ctx) +
                          "; give a positive number of tokens, or 0 for the model's own");
    }
    impl_->llama = model_weights_load(be, params.path, params.use_mmap, params.on_progress, "embedding model");
    llama_model * m = impl_->llama.get();

    info_.path = params.path;
    info_.arch = meta_str(m, "general.architecture");
    info_.name = meta_str(m, "general.name");
    if (info_.name.empty())
        info_.name = std::filesystem::path(params.path).stem().string();
    info_.dims    = llama_model_n_embd_out(m);
    info_.n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(m));

    // The pooling the file names (Qwen3-Embedding: last, BERT/bge: cls, nomic: mean). A file
    // that names none is a generative model pressed into service: mean pooling is the choice
    // that does not depend on how its inputs end.
    enum llama_pooling_type pooling = LLAMA_POOLING_TYPE_MEAN;
    const std::string       key     = meta_str(m, info_.arch + ".pooling_type");
    const long              p       = key.empty() ? 0 : strtol(key.c_str(), nullptr, 10);
    if (p == LLAMA_POOLING_TYPE_RANK) {
        throw input_error(params.path +
                          ": this is a reranking model (pooling type rank), not an embedding model; "
                          "pass an embedding GGUF such as Qwen3-Embedding or bge");
    }
    if (p == LLAMA_POOLING_TYPE_MEAN || p == LLAMA_POOLING_TYPE_CLS || p == LLAMA_POOLING_TYPE_LAST) {
        pooling = (enum llama_pooling_type)p;
    } else {
        info_.pooling_fallback = true;
    }
    info_.pooling = pooling_name(pooling);

    const int32_t n_ctx_train = llama_model_n_ctx_train(m);
    info_.n_ctx =
        params.n_ctx > 0 ? params.n_ctx : std::min(n_ctx_train > 0 ? n_ctx_train : default_max_ctx, default_max_ctx);
    impl_->n_seq_max = max_seqs_per_batch;

    const int32_t n_threads =
        params.n_threads > 0 ? params.n_threads : (int32_t)std::max(1u, std::thread::hardware_concurrency());
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx                = (uint32_t)info_.n_ctx;
    // One batch is one ubatch: a pooled sequence must not be split across ubatches, and a
    // non-causal (BERT) model sees its whole input at once.
    cp.n_batch         = (uint32_t)info_.n_ctx;
    cp.n_ubatch        = (uint32_t)info_.n_ctx;
    cp.n_seq_max       = (uint32_t)impl_->n_seq_max;
    cp.kv_unified      = true;  // the sequences share the cells: n_ctx tokens per batch in all
    cp.n_threads       = n_threads;
    cp.n_threads_batch = n_threads;
    cp.embeddings      = true;
    cp.pooling_type    = pooling;
    cp.no_perf         = true;
    // CPU flash attention takes a tiled path with f16 sums for larger batches: the same text
    // then comes out ~1e-4 different alone and among others (measured on qwen3-embed-tiny).
    // Without it a vector does not depend on what it was batched with.
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    be.take_last_errors();
    impl_->ctx.reset(llama_init_from_model(m, cp));
    if (!impl_->ctx) {
        const std::string why = be.take_last_errors();
        throw runtime_error(params.path + ": could not create an embedding context of " + std::to_string(info_.n_ctx) +
                            " tokens" + (why.empty() ? "" : " (" + why + ")") + "; try a smaller context");
    }
    impl_->batch = std::make_unique<batch_holder>(info_.n_ctx);
}

embedder::~embedder() = default;

std::vector<int32_t> embedder::tokenize(const std::string & text) const {
    const llama_vocab * vocab = llama_model_get_vocab(impl_->llama.get());
    // add_special: BOS/EOS as the tokenizer says (Qwen3-Embedding ends with <|endoftext|>);
    // parse_special off: text that spells a control token is still text.
    int32_t              n = -llama_tokenize(vocab, text.data(), (int32_t)text.size(), nullptr, 0, true, false);
    std::vector<int32_t> tokens((size_t)std::max(n, 0));
    if (n > 0) {
        n = llama_tokenize(vocab, text.data(), (int32_t)text.size(), tokens.data(), n, true, false);
        if (n < 0)
            throw runtime_error("tokenizing an input for the embedding model failed");
        tokens.resize((size_t)n);
    }
    return tokens;
}

std::vector<std::vector<float>> embedder::embed(const std::vector<std::string> & texts, int32_t * n_tokens) {
    std::vector<std::vector<int32_t>> inputs;
    inputs.reserve(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
        inputs.push_back(tokenize(texts[i]));
        if (inputs.back().empty()) {
            throw input_error("input " + std::to_string(i) +
                              " is empty: it has no tokens and this model adds none; "
                              "send some text");
        }
    }
    return embed_tokens(inputs, n_tokens);
}

std::vector<std::vector<float>> embedder::embed_tokens(const std::vector<std::vector<int32_t>> & inputs,
                                                       int32_t *                                 n_tokens) {
    int64_t total = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
        const auto & toks = inputs[i];
        if (toks.empty()) {
            throw input_error("input " + std::to_string(i) + " has no tokens; send at least one");
        }
        if ((int64_t)toks.size() > info_.n_ctx) {
            throw limit_error("input " + std::to_string(i) + " has " + std::to_string(toks.size()) +
                              " tokens, over the embedding model's limit of " + std::to_string(info_.n_ctx) +
                              " per input; shorten or split it");
        }
        for (size_t p = 0; p < toks.size(); ++p) {
            if (toks[p] < 0 || toks[p] >= info_.n_vocab) {
                throw input_error("input " + std::to_string(i) + ", token " + std::to_string(p) + ": id " +
                                  std::to_string(toks[p]) + " is outside the vocabulary (0.." +
                                  std::to_string(info_.n_vocab - 1) + ")");
            }
        }
        total += (int64_t)toks.size();
    }

    std::vector<std::vector<float>> out(inputs.size());
    std::lock_guard<std::mutex>     lock(mutex_);
    // Greedy packing in order: as many inputs as fit in n_ctx tokens and n_seq_max sequences.
    size_t first = 0;
    while (first < inputs.size()) {
        size_t  last   = first;
        int64_t in_use = 0;
        while (last < inputs.size() && (int32_t)(last - first) < impl_->n_seq_max &&
               in_use + (int64_t)inputs[last].size() <= info_.n_ctx) {
            in_use += (int64_t)inputs[last].size();
            ++last;
        }
        impl_->batch_run(inputs, first, last, info_.dims, out);
        first = last;
    }
    if (n_tokens)
        *n_tokens = (int32_t)std::min<int64_t>(total, INT32_MAX);
    return out;
}

}  // namespace muse
