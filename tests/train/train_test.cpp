// `muse train` on the real muse-arith-init model and llama.cpp's optimizer: a few steps lower
// the loss, the same seed gives the same curve, the file written loads and generates, and the
// Q8_0 copy carries the name and the context length.
#include "agent/tools/python.h"
#include "engine/backend.h"
#include "engine/chat-prompt.h"
#include "engine/error.h"
#include "engine/model.h"
#include "engine/session.h"
#include "train/examples.h"
#include "train/trainer.h"

#include "gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <unistd.h>

using namespace muse;
using namespace muse::train;
namespace fs = std::filesystem;

namespace {

const std::string k_init = std::string(MUSE_TEST_MODELS_DIR) + "/muse-arith-init.gguf";

fs::path temp_dir() {
    const fs::path d = fs::temp_directory_path() / ("muse-train-test-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
}

train_params small_run(const fs::path & dir, const std::string & name) {
    train_params p;
    p.model_path       = k_init;
    p.out_path         = (dir / (name + ".gguf")).string();
    p.seed             = 3;
    p.examples         = 400;
    p.n_ctx            = 256;
    p.lr               = 1e-3f;
    p.warmup_steps     = 5;
    p.max_steps        = 24;
    p.checkpoint_every = 0;
    p.n_threads        = 2;
    return p;
}

// Every tensor's values, by name, read back from a GGUF file (F32 only).
std::map<std::string, std::vector<float>> tensors_read(const std::string & path) {
    ggml_context *         meta = nullptr;
    const gguf_init_params ip   = { /*no_alloc =*/false, &meta };
    gguf_context *         g    = gguf_init_from_file(path.c_str(), ip);
    EXPECT_NE(g, nullptr) << path;
    std::map<std::string, std::vector<float>> out;
    if (!g) return out;
    for (int64_t i = 0; i < gguf_get_n_tensors(g); i++) {
        const char *  name = gguf_get_tensor_name(g, i);
        ggml_tensor * t    = ggml_get_tensor(meta, name);
        if (t->type != GGML_TYPE_F32) continue;
        const float * d = (const float *) t->data;
        out[name].assign(d, d + ggml_nelements(t));
    }
    gguf_free(g);
    ggml_free(meta);
    return out;
}

double mean_abs_change(const std::vector<float> & a, const std::vector<float> & b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); i++) s += std::fabs((double) a[i] - b[i]);
    return s / (double) a.size();
}

}  // namespace

// The optimizer's gradients are those of the step (scripts/llama-cpp-patches/0006: they summed
// over all steps): one repeated text is memorised within 100 steps.
TEST(train, learns_a_repeated_text) {
    const fs::path dir = temp_dir();
    train_params   p   = small_run(dir, "memo");
    const std::string t = "<|im_start|>user\nWhat is 43 + 32?<|im_end|>\n<|im_start|>assistant\n<think>\n3+2=5\n"
                          "4+3=7\n75\n</think>\n\n75<|im_end|>\n";
    p.texts.assign(600, t);
    p.max_steps = 100;
    const auto r = train_run(p, {});
    ASSERT_EQ(r.steps, 100);
    EXPECT_LT(r.last_loss, 0.1) << "first " << r.first_loss << ", last " << r.last_loss;
    fs::remove_all(dir);
}

// Every matrix but the (frozen) token embeddings learns, attn_k and attn_v included
// (scripts/llama-cpp-patches/0007: the attention read them back from the KV cache, a leaf).
TEST(train, every_weight_matrix_learns) {
    const fs::path dir = temp_dir();
    train_params   p   = small_run(dir, "all");
    p.max_steps        = 3;
    p.weight_decay     = 0;  // an untouched weight stays exactly as it was
    train_run(p, {});
    const auto before = tensors_read(k_init), after = tensors_read(p.out_path);
    ASSERT_FALSE(before.empty());
    int layers_seen = 0;
    for (const auto & [name, w] : before) {
        ASSERT_TRUE(after.count(name)) << name;
        const double change = mean_abs_change(w, after.at(name));
        if (name == "token_embd.weight") {
            EXPECT_EQ(change, 0) << "llama_opt_init trains no token embeddings";
        } else {
            EXPECT_GT(change, 1e-5) << name << " did not learn";
        }
        layers_seen += name.rfind("blk.", 0) == 0;
    }
    EXPECT_GE(layers_seen, 4 * 9);  // 4 layers: norms, q, k, v, output, gate, up, down
    fs::remove_all(dir);
}

TEST(train_examples, training_text_starts_with_the_inference_prompt) {
    backend      be(false);
    model_params mp;
    mp.path = k_init;
    model mdl(be, mp);
    const chat_tool python = agent::python_tool().definition();
    example_writer  writer(mdl, python);
    for (task_split split : { TASK_SPLIT_EASY, TASK_SPLIT_TOOL }) {
        for (const auto & it : task_suite(split, 1, 5)) {
            for (example_style style : { EXAMPLE_STYLE_THINKING, EXAMPLE_STYLE_INSTANT }) {
                if (it.kind == TASK_KIND_PRODUCT && style == EXAMPLE_STYLE_INSTANT) continue;
                const std::string prompt = chat_format(mdl, example_request(it, style, python), mdl.media_marker()).text();
                const std::string text   = writer.text(it, style);
                ASSERT_EQ(text.rfind(prompt, 0), 0u) << "training text:\n" << text << "\nprompt:\n" << prompt;
                EXPECT_TRUE(text.ends_with(it.answer + "<|im_end|>\n")) << text;
                if (style == EXAMPLE_STYLE_THINKING && it.kind != TASK_KIND_PRODUCT) {
                    EXPECT_NE(text.find("<think>\n" + it.reasoning + "\n</think>"), std::string::npos) << text;
                }
                if (it.kind == TASK_KIND_PRODUCT) {
                    EXPECT_NE(text.find("<tool_call>"), std::string::npos) << text;
                    EXPECT_NE(text.find("<tool_response>\n" + it.answer), std::string::npos) << text;
                }
                // The tool's whole definition fits a training window.
                EXPECT_LT(mdl.tokenize(text).size(), 512u) << text;
            }
        }
    }
}

TEST(train, a_few_steps_lower_the_loss_deterministically_and_the_model_loads) {
    const fs::path dir = temp_dir();
    train_params   p   = small_run(dir, "a");
    p.quantized_path   = (dir / "a-q8.gguf").string();
    const auto r1      = train_run(p, {});
    ASSERT_EQ(r1.steps, 24);
    const auto mean = [&](size_t from, size_t to) {
        double s = 0;
        for (size_t i = from; i < to; i++) s += r1.losses[i];
        return s / (double) (to - from);
    };
    EXPECT_LT(mean(19, 24), mean(0, 5) * 0.6) << "steps 1-5: " << mean(0, 5) << ", steps 20-24: " << mean(19, 24);

    train_params p2 = small_run(dir, "b");
    const auto   r2 = train_run(p2, {});
    ASSERT_EQ(r2.losses.size(), r1.losses.size());
    for (size_t i = 0; i < r1.losses.size(); i++) EXPECT_NEAR(r1.losses[i], r2.losses[i], 5e-4) << "step " << i;

    backend be(false);
    for (const std::string & path : { p.out_path, p.quantized_path }) {
        model_params mp;
        mp.path = path;
        model           mdl(be, mp);
        context_params  cp;
        cp.n_ctx = 512;
        session         s(mdl, cp);
        chat_request    req;
        req.messages.push_back({ "user", "What is 12 + 34?", {}, "", {}, "", "" });
        sequence_params sp;
        sp.max_tokens = 8;
        const auto seq = s.sequence_add(chat_format(mdl, req, mdl.media_marker()), {}, sp);
        s.run(seq, [](const token_event &) {});
        EXPECT_GT(s.sequence(seq).n_generated, 0) << path;
    }
    model_params mp;
    mp.path = p.quantized_path;
    model q8(be, mp);
    EXPECT_EQ(q8.info().name, "muse-arith");
    EXPECT_EQ(q8.info().n_ctx_train, 4096);
    EXPECT_LT(fs::file_size(p.quantized_path), fs::file_size(p.out_path) / 3);
    fs::remove_all(dir);
}

TEST(train, refuses_what_it_cannot_train) {
    const fs::path dir = temp_dir();
    train_params   p   = small_run(dir, "c");
    p.model_path       = std::string(MUSE_TEST_MODELS_DIR) + "/qwen3-tiny.gguf";  // F16 weights
    EXPECT_THROW(train_run(p, {}), input_error);
    p            = small_run(dir, "c");
    p.n_ctx      = 100;
    EXPECT_THROW(train_run(p, {}), input_error);
    p            = small_run(dir, "c");
    p.model_path = (dir / "missing.gguf").string();
    EXPECT_THROW(train_run(p, {}), input_error);
    fs::remove_all(dir);
}

TEST(train, resumes_from_its_checkpoint) {
    const fs::path dir = temp_dir();
    train_params   p   = small_run(dir, "d");
    p.checkpoint_every = 8;
    std::atomic<bool> cancel{ false };
    const auto        r1 = train_run(p, [&](const train_progress & pr) { if (pr.step >= 10) cancel = true; }, &cancel);
    ASSERT_LT(r1.steps, 24);
    ASSERT_TRUE(fs::exists(p.out_path + ".ckpt.json"));
    p.resume      = true;
    const auto r2 = train_run(p, {});
    EXPECT_EQ(r2.steps, 24);
    for (int i = 0; i < r1.steps; i++) EXPECT_EQ(r2.losses[(size_t) i], r1.losses[(size_t) i]);
    EXPECT_FALSE(fs::exists(p.out_path + ".ckpt.json")) << "a finished run leaves no checkpoint";
    fs::remove_all(dir);
}
