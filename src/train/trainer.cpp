#include "train/trainer.h"

#include "agent/tools/python.h"
#include "engine/backend.h"
#include "engine/error.h"
#include "engine/model.h"
#include "train/examples.h"
#include "train/tasks.h"

#include "ggml-opt.h"
#include "gguf.h"
#include "llama-cpp.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace muse::train {

namespace {

namespace fs = std::filesystem;

struct lr_schedule {
    const train_params * params = nullptr;
    int32_t              step   = 0;
    int32_t              steps  = 1;
};

// Warm-up, then a cosine from lr to lr_min; ggml-opt asks once per optimizer step.
ggml_opt_optimizer_params lr_at(void * userdata) {
    const auto &              s = *(const lr_schedule *) userdata;
    const train_params &      p = *s.params;
    ggml_opt_optimizer_params o = ggml_opt_get_default_optimizer_params(nullptr);
    double                    lr;
    if (s.step < p.warmup_steps) {
        lr = p.lr * (s.step + 1) / (double) p.warmup_steps;
    } else {
        const double t = (double) (s.step - p.warmup_steps) / std::max(1, s.steps - p.warmup_steps);
        lr             = p.lr_min + 0.5 * (p.lr - p.lr_min) * (1 + std::cos(M_PI * std::min(1.0, t)));
    }
    o.adamw.alpha = (float) lr;
    o.adamw.beta2 = 0.95f;  // 0.999 let the loss blow up from 3.3 to 10.8 at lr 2e-3 (400-step trial)
    o.adamw.wd    = p.weight_decay;
    return o;
}

std::string checkpoint_model(const train_params & p) { return p.out_path + ".ckpt.gguf"; }
std::string checkpoint_state(const train_params & p) { return p.out_path + ".ckpt.json"; }

void params_check(const train_params & p) {
    if (p.model_path.empty()) throw input_error("muse train needs a starting model (-m FILE.gguf)");
    if (p.out_path.empty()) throw input_error("muse train needs an output file (-o FILE.gguf)");
    if (p.n_ctx < 64 || p.n_ctx > 8192 || p.n_ctx % 32 != 0) {
        throw input_error("--ctx " + std::to_string(p.n_ctx) + " is out of range: use a multiple of 32 from 64 to 8192");
    }
    if (p.examples < 1 && p.texts.empty()) throw input_error("--examples must be at least 1");
    if (!(p.lr > 0 && p.lr < 1) || !(p.lr_min >= 0 && p.lr_min <= p.lr)) {
        throw input_error("--lr must be in (0, 1) and --lr-min in [0, lr]");
    }
    if (p.instant_share < 0 || p.instant_share > 1) throw input_error("--instant-share must be in [0, 1]");
}

// Whole examples packed into windows of n_ctx + 1 tokens (the last one is only a label),
// padded with the pad token; an example longer than a window is left out.
struct packed {
    std::vector<std::vector<int32_t>> windows;
    int64_t                           examples = 0, skipped = 0, tokens = 0;
};

packed windows_pack(const model & mdl, const std::vector<std::string> & texts, int32_t n_ctx) {
    packed              out;
    const llama_vocab * vocab = mdl.vocab();
    int32_t             pad   = llama_vocab_pad(vocab);
    if (pad < 0) pad = llama_vocab_eos(vocab);
    std::vector<int32_t> cur;
    const auto           flush = [&] {
        if (cur.empty()) return;
        cur.resize((size_t) n_ctx + 1, pad);
        out.windows.push_back(std::move(cur));
        cur.clear();
    };
    for (const auto & text : texts) {
        const std::vector<int32_t> t = mdl.tokenize(text);
        if ((int32_t) t.size() > n_ctx) {
            out.skipped++;
            continue;
        }
        if ((int32_t) (cur.size() + t.size()) > n_ctx) flush();
        cur.insert(cur.end(), t.begin(), t.end());
        out.examples++;
        out.tokens += (int64_t) t.size();
    }
    flush();
    return out;
}

std::vector<std::string> suite_texts(const model & mdl, const train_params & p) {
    agent::python_tool_options po;
    example_writer      writer(mdl, agent::python_tool(po).definition());
    task_generator      gen(TASK_SPLIT_TRAIN, p.seed);
    std::mt19937_64     style_rng(p.seed * 7919 + 17);
    std::vector<std::string> texts;
    texts.reserve((size_t) p.examples);
    for (int64_t i = 0; i < p.examples; i++) {
        const task_item it = gen.next();
        texts.push_back(writer.text(it, example_style_draw(it, p.instant_share, style_rng)));
    }
    return texts;
}

void state_write(const train_params & p, int32_t step, const std::vector<double> & losses) {
    const nlohmann::json j = { { "step", step }, { "seed", p.seed }, { "examples", p.examples }, { "ctx", p.n_ctx },
                               { "losses", losses } };
    const std::string    tmp = checkpoint_state(p) + ".tmp";
    std::ofstream(tmp) << j.dump() << "\n";
    fs::rename(tmp, checkpoint_state(p));
}

// The trained weights with the starting model's metadata. llama_model_save_to_file writes the
// tensors and the hparams, but no chat template, description or file type (and a hundred keys
// of other architectures): a model saved by it alone rendered prompts with llama.cpp's ChatML
// fallback, without the reasoning channel or the tools.
void model_save(llama_model * m, const std::string & path, const std::string & meta_from) {
    const std::string raw = path + ".weights.tmp", tmp = path + ".tmp";
    llama_model_save_to_file(m, raw.c_str());
    ggml_context *         data = nullptr;
    const gguf_init_params with_data{ /*no_alloc =*/false, &data };
    gguf_context *         saved = gguf_init_from_file(raw.c_str(), with_data);
    const gguf_init_params meta_only{ /*no_alloc =*/true, nullptr };
    gguf_context *         meta  = gguf_init_from_file(meta_from.c_str(), meta_only);
    std::error_code        ec;
    if (!saved || !meta) {
        if (saved) gguf_free(saved);
        if (meta) gguf_free(meta);
        if (data) ggml_free(data);
        fs::remove(raw, ec);
        throw runtime_error("cannot write the trained model to " + path + " (llama.cpp's file could not be read back)");
    }
    gguf_context * out = gguf_init_empty();
    gguf_set_kv(out, meta);
    gguf_set_val_str(out, "general.description", "trained by muse train (llama.cpp's optimizer) on muse's task suite");
    for (int64_t i = 0; i < gguf_get_n_tensors(saved); i++) {
        gguf_add_tensor(out, ggml_get_tensor(data, gguf_get_tensor_name(saved, i)));
    }
    const bool ok = gguf_write_to_file(out, tmp.c_str(), false);
    gguf_free(out);
    gguf_free(meta);
    gguf_free(saved);
    ggml_free(data);
    fs::remove(raw, ec);
    if (ok) fs::rename(tmp, path, ec);
    if (!ok || ec) {
        fs::remove(tmp, ec);
        throw runtime_error("cannot write the trained model to " + path + " (disk full or not writable?)");
    }
}

// The first tensor of the file that is not F32 ("name (type)"), or "" when all are. Read from
// the tensor infos: llama_model_save_to_file writes no general.file_type.
std::string tensor_not_f32(const std::string & path) {
    const gguf_init_params ip = { /*no_alloc =*/true, /*ctx =*/nullptr };
    gguf_context *         g  = gguf_init_from_file(path.c_str(), ip);
    if (!g) return "(unreadable)";
    std::string other;
    for (int64_t i = 0; i < gguf_get_n_tensors(g) && other.empty(); i++) {
        const ggml_type t = gguf_get_tensor_type(g, i);
        if (t != GGML_TYPE_F32) other = std::string(gguf_get_tensor_name(g, i)) + " (" + ggml_type_name(t) + ")";
    }
    gguf_free(g);
    return other;
}

double mean_of(const std::vector<double> & v, size_t from, size_t to) {
    double s = 0;
    for (size_t i = from; i < to; i++) s += v[i];
    return to > from ? s / (double) (to - from) : 0;
}

}  // namespace

void model_f32_check(const std::string & path) {
    if (const std::string other = tensor_not_f32(path); !other.empty()) {
        throw input_error(path + ": its tensor " + other +
                          " is not F32; llama.cpp's optimizer trains F32 weights only: start from an F32 model "
                          "such as muse-arith-init.gguf, or the F32 file (-o) of an earlier muse train");
    }
}

train_result train_run(const train_params & p, const train_progress_fn & on_progress, const std::atomic<bool> * cancel) {
    params_check(p);
    gguf_file_check(p.model_path, "starting model");
    const auto t0 = std::chrono::steady_clock::now();

    int32_t             start_step = 0;
    std::vector<double> losses;
    std::string         weights = p.model_path;
    if (p.resume && fs::exists(checkpoint_state(p)) && fs::exists(checkpoint_model(p))) {
        std::ifstream        in(checkpoint_state(p));
        const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
        if (!j.is_object() || j.value("seed", (uint64_t) 0) != p.seed || j.value("examples", (int64_t) 0) != p.examples ||
            j.value("ctx", 0) != p.n_ctx) {
            throw input_error(checkpoint_state(p) +
                              ": this checkpoint was written with another --seed, --examples or --ctx; pass the same "
                              "ones, or delete the checkpoint to start over");
        }
        start_step = j.value("step", 0);
        losses     = j.value("losses", std::vector<double>{});
        weights    = checkpoint_model(p);
    }

    backend be(false);
    model_params mp;
    mp.path = weights;
    model mdl(be, mp);  // templates and tokenizer

    llama_model_params lmp = llama_model_default_params();
    lmp.load_mode          = LLAMA_LOAD_MODE_NONE;  // the optimizer writes the weights
    lmp.use_extra_bufts    = false;                 // no repacked copies of them
    llama_model_ptr trainee(llama_model_load_from_file(weights.c_str(), lmp));
    if (!trainee) throw input_error(weights + ": llama.cpp could not load it for training (" + be.take_last_errors() + ")");
    model_f32_check(weights);

    const std::vector<std::string> texts = p.texts.empty() ? suite_texts(mdl, p) : p.texts;
    const packed                   pk    = windows_pack(mdl, texts, p.n_ctx);
    if (pk.windows.empty()) throw input_error("no training example fits in --ctx " + std::to_string(p.n_ctx));
    int32_t steps = (int32_t) pk.windows.size();
    if (p.max_steps > 0) steps = std::min(steps, p.max_steps);

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx                = (uint32_t) p.n_ctx;
    cp.n_batch              = (uint32_t) p.n_ctx;
    cp.n_ubatch             = (uint32_t) p.n_ctx;
    cp.n_seq_max            = 1;
    const int threads       = p.n_threads > 0 ? p.n_threads : (int) std::max(1u, std::thread::hardware_concurrency());
    cp.n_threads            = threads;
    cp.n_threads_batch      = threads;
    cp.flash_attn_type      = LLAMA_FLASH_ATTN_TYPE_DISABLED;  // no backward pass
    cp.type_k               = GGML_TYPE_F32;                   // no f16 OUT_PROD
    cp.type_v               = GGML_TYPE_F32;
    cp.no_perf              = true;
    llama_context_ptr ctx(llama_init_from_model(trainee.get(), cp));
    if (!ctx) throw runtime_error("llama.cpp could not make a training context (" + be.take_last_errors() + ")");

    // llama_opt_epoch computes through the scheduler without telling the CPU backend its
    // thread count, which llama.cpp only passes on in a decode: without one decode first the
    // backend keeps GGML_DEFAULT_N_THREADS (4): 4 threads on 2 cores trained muse-arith at
    // 1,561 tokens/s, 2 threads at 2,000 (Intel Xeon, 2 cores, 30 steps of 512 tokens).
    {
        llama_token first = (llama_token) pk.windows[0][0];
        llama_batch one   = llama_batch_get_one(&first, 1);
        if (llama_decode(ctx.get(), one) != 0) throw runtime_error("llama.cpp could not decode a token of the model");
        llama_memory_clear(llama_get_memory(ctx.get()), true);
    }

    lr_schedule      sched{ &p, start_step, steps };
    llama_opt_params op{};
    op.n_ctx_train     = 0;
    op.param_filter    = llama_opt_param_filter_all;
    op.get_opt_pars    = lr_at;
    op.get_opt_pars_ud = &sched;
    op.optimizer_type  = GGML_OPT_OPTIMIZER_TYPE_ADAMW;
    llama_opt_init(ctx.get(), trainee.get(), op);

    train_result r;
    r.windows  = (int64_t) pk.windows.size();
    r.examples = pk.examples;
    r.tokens   = pk.tokens;

    ggml_opt_result_t result = ggml_opt_result_init();
    const auto        t_train = std::chrono::steady_clock::now();
    losses.resize((size_t) start_step);
    for (int32_t step = start_step; step < steps; step++) {
        if (cancel && cancel->load()) break;
        ggml_opt_dataset_t ds = ggml_opt_dataset_init(GGML_TYPE_I32, GGML_TYPE_I32, p.n_ctx, p.n_ctx, 1, 1);
        const auto &       w  = pk.windows[(size_t) step];
        memcpy(ggml_opt_dataset_data(ds)->data, w.data(), (size_t) p.n_ctx * sizeof(int32_t));
        memcpy(ggml_opt_dataset_labels(ds)->data, w.data() + 1, (size_t) p.n_ctx * sizeof(int32_t));
        sched.step = step;
        llama_opt_epoch(ctx.get(), ds, result, nullptr, 1, nullptr, nullptr);
        ggml_opt_dataset_free(ds);
        double loss = 0, unc = 0;
        ggml_opt_result_loss(result, &loss, &unc);
        ggml_opt_result_reset(result);
        if (!std::isfinite(loss)) {
            ggml_opt_result_free(result);
            throw runtime_error("the loss became " + std::to_string(loss) + " at step " + std::to_string(step + 1) +
                                "; lower --lr (now " + std::to_string(p.lr) + ")");
        }
        losses.push_back(loss);

        if (on_progress) {
            const double   elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_train).count();
            const int32_t  done    = step + 1 - start_step;
            train_progress pr;
            pr.step         = step + 1;
            pr.steps        = steps;
            pr.loss         = mean_of(losses, losses.size() - std::min<size_t>(10, losses.size()), losses.size());
            pr.tokens_per_s = done * (double) p.n_ctx / std::max(1e-9, elapsed);
            pr.eta_secs     = elapsed / done * (steps - step - 1);
            on_progress(pr);
        }
        const bool last = step + 1 == steps;
        if (p.checkpoint_every > 0 && (step + 1) % p.checkpoint_every == 0 && !last) {
            model_save(trainee.get(), checkpoint_model(p), p.model_path);
            state_write(p, step + 1, losses);
        }
    }
    ggml_opt_result_free(result);

    r.steps  = (int32_t) losses.size();
    r.losses = losses;
    const size_t n = losses.size(), k = std::min<size_t>(20, n);
    r.first_loss = mean_of(losses, 0, k);
    r.last_loss  = mean_of(losses, n - k, n);
    model_save(trainee.get(), p.out_path, p.model_path);
    if (r.steps < steps) {  // cancelled: keep where it got to
        model_save(trainee.get(), checkpoint_model(p), p.model_path);
        state_write(p, r.steps, losses);
    } else {
        std::error_code ec;
        fs::remove(checkpoint_model(p), ec);
        fs::remove(checkpoint_state(p), ec);
    }
    if (!p.quantized_path.empty()) model_quantize_q8(p.out_path, p.quantized_path, "muse-arith", 4096);
    r.secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

void model_quantize_q8(const std::string & in, const std::string & out, const std::string & name, int32_t n_ctx_train) {
    char arch[64] = "";
    {
        llama_model_params lmp = llama_model_default_params();
        lmp.vocab_only         = true;
        llama_model_ptr m(llama_model_load_from_file(in.c_str(), lmp));
        if (!m) throw input_error(in + ": llama.cpp could not read it to quantize");
        llama_model_meta_val_str(m.get(), "general.architecture", arch, sizeof arch);
    }
    std::vector<llama_model_kv_override> kv(3);
    kv[0].tag = LLAMA_KV_OVERRIDE_TYPE_STR;
    snprintf(kv[0].key, sizeof kv[0].key, "general.name");
    snprintf(kv[0].val_str, sizeof kv[0].val_str, "%s", name.c_str());
    kv[1].tag = LLAMA_KV_OVERRIDE_TYPE_INT;
    snprintf(kv[1].key, sizeof kv[1].key, "%s.context_length", arch);
    kv[1].val_i64 = n_ctx_train;
    kv[2].key[0]  = '\0';  // the end of the list

    llama_model_quantize_params qp = llama_model_quantize_default_params();
    qp.ftype                       = LLAMA_FTYPE_MOSTLY_Q8_0;
    qp.nthread                     = 0;
    qp.kv_overrides                = kv.data();
    const std::string tmp          = out + ".tmp";
    if (llama_model_quantize(in.c_str(), tmp.c_str(), &qp) != 0) {
        throw runtime_error("llama.cpp could not quantize " + in + " to Q8_0");
    }
    std::error_code ec;
    fs::rename(tmp, out, ec);
    if (ec) throw runtime_error("cannot write " + out + ": " + ec.message());
}

}  // namespace muse::train
