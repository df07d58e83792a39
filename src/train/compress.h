#pragma once
// Thought compression: the second stage of `muse train`, expert iteration with a length
// penalty. The trained model answers train-split problems K times each at a temperature
// (one contemplation of K agents over the shared prompt, so the K samples cost one prompt
// decode and run batched); each sample gets the reward
//     correct - length_penalty * reasoning_tokens / reference_tokens
// (reference_tokens: the reasoning of the problem's written trace), and the best sample of a
// problem is kept when it is correct. Then the model is fine-tuned on the kept samples
// (train_run with train_params::texts), mixed with the suite's own examples of what sampling
// cannot produce here (the python-tool calls and the instant answers), so those skills stay.
//
// A problem none of whose samples is right is left out: the stage never teaches a wrong answer.
#include "train/trainer.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace muse::train {

struct compress_params {
    train_params train;            // model_path: the base model (F32); out, q8, lr, steps...
    int32_t      problems       = 2000;  // drawn from the train split (seed: train.seed)
    int32_t      samples        = 8;     // K per problem
    float        temperature    = 1.0f;
    int32_t      max_tokens     = 320;   // per sample
    double       length_penalty = 0.5;
};

struct compress_sampling_progress {
    int32_t done = 0, total = 0;   // problems sampled
    int32_t solved = 0;            // with a correct sample
    double  tokens_per_s = 0;      // generated, all samples
    double  eta_secs = 0;
};

struct compress_result {
    int32_t sampled = 0;           // problems sampled (not the tool / instant ones)
    int32_t solved = 0;            // problems with at least one correct sample
    int64_t samples = 0, correct_samples = 0;
    double  reference_tokens = 0;  // mean reasoning tokens of the written traces of the kept problems
    double  sampled_tokens   = 0;  // mean reasoning tokens of all correct samples
    double  kept_tokens      = 0;  // mean reasoning tokens of the kept samples
    int32_t replayed = 0;          // suite examples mixed in (tool calls, instant answers)
    double  sampling_secs = 0;
    train_result train;            // the fine-tuning
};

using compress_sampling_fn = std::function<void(const compress_sampling_progress &)>;

// Throws input_error for bad parameters or a model that cannot be trained.
compress_result compress_run(const compress_params & params, const compress_sampling_fn & on_sampling,
                             const train_progress_fn & on_train, const std::atomic<bool> * cancel = nullptr);

}  // namespace muse::train
