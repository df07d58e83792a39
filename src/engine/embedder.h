#pragma once
// An embedding model: texts (or token ids) in, one L2-normalized vector per input out. It owns
// its llama_model and a context of its own with embeddings on, separate from the chat model's
// session, so `muse serve --embedding-model` can run beside any chat model.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace muse {

class backend;

struct embedder_params {
    std::string path;
    // Most tokens one input may have, and one llama_decode's worth of inputs together.
    // 0: the model's training context, at most 8192.
    int32_t n_ctx     = 0;
    int32_t n_threads = 0;  // 0: all cores
    bool    use_mmap  = true;
    // Progress of the weights load, 0..1. Return false to cancel the load.
    std::function<bool(float)> on_progress;
};

struct embedder_info {
    std::string path;
    std::string arch;                      // general.architecture
    std::string name;                      // general.name, or the file's stem when it has none
    std::string pooling;                   // "mean", "cls" or "last"
    bool        pooling_fallback = false;  // the file names no pooling; mean was chosen
    int32_t     dims             = 0;      // the length of every vector
    int32_t     n_ctx            = 0;      // tokens per input and per batch
    int32_t     n_vocab          = 0;
};

class embedder {
  public:
    // Throws input_error naming the file when it is missing, not a GGUF, or a reranker.
    embedder(backend & be, const embedder_params & params);
    ~embedder();
    embedder(const embedder &)             = delete;
    embedder & operator=(const embedder &) = delete;

    const embedder_info & info() const { return info_; }
    int32_t               dims() const { return info_.dims; }

    // Text to tokens as embed() sees it: the model's BOS/EOS added as its tokenizer says.
    std::vector<int32_t> tokenize(const std::string & text) const;

    // One unit-length vector of dims() floats per text, in order. Several inputs share one
    // llama_decode. An input over n_ctx tokens throws limit_error naming its index, its
    // length and the limit. `n_tokens`, when given, receives the tokens decoded in all.
    std::vector<std::vector<float>> embed(const std::vector<std::string> & texts, int32_t * n_tokens = nullptr);

    // The same for inputs that are already token ids, used as given (no BOS/EOS added).
    // An id outside the vocabulary or an empty input throws input_error naming its index.
    std::vector<std::vector<float>> embed_tokens(const std::vector<std::vector<int32_t>> & inputs,
                                                 int32_t *                                 n_tokens = nullptr);

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
    embedder_info         info_;
    std::mutex            mutex_;  // one decode at a time: the context is not thread-safe
};

}  // namespace muse
