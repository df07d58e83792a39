#pragma once
// `muse train`: supervised training of a GGUF model on the task suite with llama.cpp's
// optimizer (llama_opt_init / llama_opt_epoch, ggml-opt's AdamW), on the CPU.
//
// The examples (train/examples.h) are packed whole into windows of `n_ctx` tokens, padded,
// and each window is one optimizer step: llama_opt_epoch computes the next-token loss over
// every position of a window. The learning rate warms up, then follows a cosine to lr_min.
// With the same seed, model and thread count the loss curve is the same run after run.
//
// A checkpoint (the weights as GGUF plus a JSON file with the step and the loss so far) is
// written every `checkpoint_every` steps and at the end; `resume` goes on from it. The
// optimizer's moments are not in a checkpoint: a resumed run starts them afresh, so its curve
// differs slightly from an uninterrupted one.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace muse::train {

struct train_params {
    std::string model_path;       // the starting model (F32 weights)
    std::string out_path;         // the trained model (F32, what a later stage resumes from)
    std::string quantized_path;   // "": none; else the model also as Q8_0 (what muse ships)
    uint64_t    seed            = 1;
    int64_t     examples        = 20000;  // drawn from the train split
    double      instant_share   = 0.2;    // of the examples, written with thinking off
    int32_t     n_ctx           = 512;    // tokens per window = per optimizer step
    int32_t     n_threads       = 0;      // 0: every core
    float       lr              = 1e-3f;
    float       lr_min          = 1e-4f;
    int32_t     warmup_steps    = 100;
    float       weight_decay    = 0.01f;
    int32_t     max_steps       = 0;      // 0: all windows; else stop after this many
    int32_t     checkpoint_every = 500;   // steps; 0: only at the end
    bool        resume          = false;
    // Extra windows of text to train on instead of the task suite (compression stage).
    std::vector<std::string> texts;
};

struct train_progress {
    int32_t step        = 0;
    int32_t steps       = 0;
    double  loss        = 0;   // mean over the last 10 steps
    double  tokens_per_s = 0;
    double  eta_secs    = 0;
};

struct train_result {
    int32_t             steps = 0;
    int64_t             windows = 0, examples = 0, tokens = 0;
    std::vector<double> losses;  // per step
    double              first_loss = 0, last_loss = 0;  // mean of the first / last 20 steps
    double              secs = 0;
};

// Called after every step.
using train_progress_fn = std::function<void(const train_progress &)>;

// Throws input_error for bad parameters or a model that cannot be trained (not F32).
train_result train_run(const train_params & params, const train_progress_fn & on_progress,
                       const std::atomic<bool> * cancel = nullptr);

// Throws input_error naming the first tensor of the GGUF file at `path` that is not F32.
void model_f32_check(const std::string & path);

// Writes `in` as Q8_0 to `out` through llama.cpp's quantizer, naming it `name` and giving it
// `n_ctx_train` (training sets the context length to the window).
void model_quantize_q8(const std::string & in, const std::string & out, const std::string & name, int32_t n_ctx_train);

}  // namespace muse::train
