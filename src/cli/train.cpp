// `muse train`: teaches a model the task suite on the CPU (src/train), and writes the
// held-out suites `muse eval` measures it on.
//   muse train -m muse-arith-init.gguf -o muse-arith-f32.gguf --q8 muse-arith.gguf --seed 1
//   muse train --write-suite easy.jsonl --split easy --count 200 --seed 101
//   muse train --compress -m muse-arith-f32.gguf -o muse-arith-c-f32.gguf --q8 muse-arith-c.gguf --seed 2
#include "cli/commands.h"
#include "cli/terminal.h"
#include "engine/error.h"
#include "train/compress.h"
#include "train/tasks.h"
#include "train/trainer.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>

namespace muse::cli {

namespace {

struct train_options {
    train::train_params p;
    bool                compress = false;
    train::compress_params c;  // with --compress; c.train is p
    std::string         suite_out;
    std::string         split = "easy";
    int                 count = 200;
    std::string         losses_out;
};

std::string clock_text(double secs) {
    const int s = (int) (secs + 0.5);
    char      buf[32];
    if (s >= 3600) snprintf(buf, sizeof buf, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    else snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
    return buf;
}

// One JSON object per line: the format `muse eval --suite` reads (docs/eval.md).
int suite_write(const train_options & o) {
    const train::task_split split = train::task_split_parse(o.split);
    if (split == train::TASK_SPLIT_TRAIN) throw input_error("--split train is what training draws; write easy, hard or tool");
    if (o.count < 1) throw input_error("--count must be at least 1");
    const auto    items = train::task_suite(split, o.p.seed, (size_t) o.count);
    std::ofstream out(o.suite_out);
    if (!out) throw input_error("cannot write " + o.suite_out + ": check the folder exists and is writable");
    size_t i = 0;
    for (const auto & it : items) {
        nlohmann::json j = { { "id", std::string(train::task_split_name(split)) + "-" + std::to_string(++i) },
                             { "question", it.question },
                             { "answer", it.answer },
                             { "checker", "numeric" },
                             { "tags", { { "split", train::task_split_name(split) },
                                         { "kind", train::task_kind_name(it.kind) },
                                         { "digits", it.digits } } } };
        out << j.dump() << "\n";
    }
    fprintf(stderr, "wrote %zu %s items to %s (seed %llu)\n", items.size(), train::task_split_name(split),
            o.suite_out.c_str(), (unsigned long long) o.p.seed);
    return 0;
}

// The step, loss, tokens/s and ETA line: in place on a terminal, every 10 s into a log.
train::train_progress_fn train_progress_printer(bool tty) {
    return [tty, throttle = progress_throttle(tty, 10)](const train::train_progress & pr) mutable {
        if (!throttle.due(pr.step >= pr.steps)) return;
        const int width = 30, fill = (int) (width * (double) pr.step / std::max(1, pr.steps));
        fprintf(stderr, "%sstep %d/%d [%.*s%*s] loss %.3f  %.0f tok/s  ETA %s%s", tty ? "\r\033[K" : "", pr.step,
                pr.steps, fill, "##############################", width - fill, "", pr.loss, pr.tokens_per_s,
                clock_text(pr.eta_secs).c_str(), tty ? "" : "\n");
        fflush(stderr);
    };
}

int train_finish(const train_options & o, const train::train_result & r, const std::atomic<bool> & cancel) {
    if (!o.losses_out.empty()) {
        std::ofstream out(o.losses_out);
        out << nlohmann::json(r.losses).dump() << "\n";
    }
    printf("trained %d steps on %lld examples (%lld tokens) in %s: loss %.3f -> %.3f\n", r.steps,
           (long long) r.examples, (long long) r.tokens, clock_text(r.secs).c_str(), r.first_loss, r.last_loss);
    printf("wrote %s%s%s\n", o.p.out_path.c_str(), o.p.quantized_path.empty() ? "" : " and ",
           o.p.quantized_path.c_str());
    if (cancel.load()) {
        printf("stopped early; `muse train` with the same options and --resume goes on from step %d\n", r.steps);
        return 130;
    }
    return 0;
}

int compress_command(train_options & o, std::atomic<bool> & cancel) {
    const bool tty = is_tty(stderr);
    o.c.train      = o.p;
    fprintf(stderr, "compressing %s: %d problems, %d samples each at temperature %.2f, length penalty %.2f (seed %llu)\n",
            o.p.model_path.c_str(), o.c.problems, o.c.samples, o.c.temperature, o.c.length_penalty,
            (unsigned long long) o.p.seed);
    const auto r = train::compress_run(
        o.c,
        [&, throttle = progress_throttle(tty, 10)](const train::compress_sampling_progress & pr) mutable {
            if (!throttle.due(pr.done >= pr.total)) return;
            fprintf(stderr, "%ssampling %d/%d problems, %d solved  %.0f tok/s  ETA %s%s", tty ? "\r\033[K" : "", pr.done,
                    pr.total, pr.solved, pr.tokens_per_s, clock_text(pr.eta_secs).c_str(), tty ? "" : "\n");
            fflush(stderr);
        },
        train_progress_printer(tty), &cancel);
    if (tty) fputc('\n', stderr);
    printf("sampled %d problems x %d in %s: %d solved (%lld of %lld samples right); reasoning tokens: written trace %.1f, "
           "right samples %.1f, kept %.1f (%+.1f%%); %d suite examples replayed\n",
           r.sampled, o.c.samples, clock_text(r.sampling_secs).c_str(), r.solved, (long long) r.correct_samples,
           (long long) r.samples, r.reference_tokens, r.sampled_tokens, r.kept_tokens,
           r.reference_tokens > 0 ? 100.0 * (r.kept_tokens / r.reference_tokens - 1) : 0.0, r.replayed);
    if (cancel.load() && r.train.steps == 0) {
        printf("stopped while sampling; nothing was written\n");
        return 130;
    }
    return train_finish(o, r.train, cancel);
}

int train_command(train_options & o, std::atomic<bool> & cancel) {
    if (!o.suite_out.empty()) return suite_write(o);
    if (o.compress) return compress_command(o, cancel);
    const bool tty = is_tty(stderr);
    fprintf(stderr, "training %s on %lld examples (seed %llu, %d-token windows)\n", o.p.model_path.c_str(),
            (long long) o.p.examples, (unsigned long long) o.p.seed, o.p.n_ctx);
    const auto r = train::train_run(o.p, train_progress_printer(tty), &cancel);
    if (tty) fputc('\n', stderr);
    return train_finish(o, r, cancel);
}

}  // namespace

void train_command_add(CLI::App & app, command_runner & runner) {
    auto  o   = std::make_shared<train_options>();
    auto * cmd = app.add_subcommand("train", "train a model on muse's arithmetic task suite on the CPU (llama.cpp's optimizer)");
    cmd->add_option("-m,--model", o->p.model_path, "Starting model, F32 (muse-arith-init.gguf from muse-make-test-models)");
    cmd->add_option("-o,--out", o->p.out_path, "The trained model, F32 (a later stage starts from it)");
    cmd->add_option("--q8", o->p.quantized_path, "Also write the trained model as Q8_0 here (what muse ships)");
    cmd->add_option("--seed", o->p.seed, "Seed of the examples and their order")->capture_default_str();
    cmd->add_option("--examples", o->p.examples, "Examples drawn from the train split")->capture_default_str();
    cmd->add_option("--instant-share", o->p.instant_share, "Share of examples written with thinking off")->capture_default_str();
    cmd->add_option("--ctx", o->p.n_ctx, "Tokens per window; one window is one optimizer step")->capture_default_str();
    cmd->add_option("--lr", o->p.lr, "Peak learning rate (AdamW)")->capture_default_str();
    cmd->add_option("--lr-min", o->p.lr_min, "Learning rate at the end of the cosine")->capture_default_str();
    cmd->add_option("--warmup", o->p.warmup_steps, "Warm-up steps")->capture_default_str();
    cmd->add_option("--weight-decay", o->p.weight_decay, "AdamW weight decay")->capture_default_str();
    cmd->add_option("--max-steps", o->p.max_steps, "Stop after this many steps (0: every window)")->capture_default_str();
    cmd->add_option("--checkpoint-every", o->p.checkpoint_every, "Steps between checkpoints (0: none)")->capture_default_str();
    cmd->add_flag("--resume", o->p.resume, "Go on from OUT.ckpt.gguf / OUT.ckpt.json when they exist");
    cmd->add_option("-t,--threads", o->p.n_threads, "Threads (0: every core)")->capture_default_str();
    cmd->add_option("--losses", o->losses_out, "Write the loss of every step to this JSON file");
    cmd->add_option("--write-suite", o->suite_out, "Instead of training, write a held-out suite (JSONL) to this file");
    cmd->add_option("--split", o->split, "With --write-suite: easy, hard or tool")->capture_default_str();
    cmd->add_option("--count", o->count, "With --write-suite: items")->capture_default_str();
    cmd->add_flag("--compress", o->compress,
                  "Thought compression: sample --samples answers per problem from -m (a trained model), keep the "
                  "shortest right one, fine-tune on them (--lr then defaults to 3e-4, --lr-min to 3e-5)");
    cmd->add_option("--problems", o->c.problems, "With --compress: train-split problems drawn")->capture_default_str();
    cmd->add_option("--samples", o->c.samples, "With --compress: answers sampled per problem")->capture_default_str();
    cmd->add_option("--sample-temp", o->c.temperature, "With --compress: sampling temperature")->capture_default_str();
    cmd->add_option("--sample-tokens", o->c.max_tokens, "With --compress: most tokens per sample")->capture_default_str();
    cmd->add_option("--length-penalty", o->c.length_penalty,
                    "With --compress: reward = right - PENALTY * reasoning tokens / the written trace's")
        ->capture_default_str();
    cmd->callback([o, &runner, cmd] {
        if (o->compress) {
            if (cmd->count("--lr") == 0) o->p.lr = 3e-4f;
            if (cmd->count("--lr-min") == 0) o->p.lr_min = std::min(o->p.lr, 3e-5f);
            if (cmd->count("--warmup") == 0) o->p.warmup_steps = 20;
        }
        runner.run = [o](std::atomic<bool> & cancel) { return train_command(*o, cancel); };
    });
}

}  // namespace muse::cli
