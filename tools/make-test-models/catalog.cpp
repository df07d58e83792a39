#include "catalog.h"

#include "arith-vocab.h"
#include "projectors.h"
#include "text-models.h"
#include "vocab.h"

namespace muse::tools {

namespace {

using path = std::filesystem::path;

path vocab_file(const path & dir, const char * name) {
    return dir / "models" / name;
}
path template_file(const path & dir, const char * name) {
    return dir / "models" / "templates" / name;
}

// Llama 3.2 Instruct: the Llama 3 BPE vocab with the 3.1+ names for three reserved slots,
// <|eot_id|> as eos like the released GGUFs.
vocab_spec vocab_llama3(const path & dir) {
    vocab_spec v;
    v.vocab_file    = vocab_file(dir, "ggml-vocab-llama-bpe.gguf");
    v.template_file = template_file(dir, "meta-llama-Llama-3.2-3B-Instruct.jinja");
    v.renames       = {
              { 128004, "<|finetune_right_pad_id|>", LLAMA_TOKEN_TYPE_CONTROL },
              { 128008, "<|eom_id|>", LLAMA_TOKEN_TYPE_CONTROL },
              { 128010, "<|python_tag|>", LLAMA_TOKEN_TYPE_CONTROL },
    };
    v.eos_id  = 128009;  // <|eot_id|>
    v.add_bos = true;
    return v;
}

// Qwen3: the Qwen2 vocab has only the first three added tokens; Qwen3's others sit in its
// [PAD] slots at the same ids as in the real tokenizer, typed as llama.cpp's converter types
// them: <|...|> is CONTROL, the rest (<think>, <tool_call>, ...) USER_DEFINED, which
// tokenizes and prints as text.
vocab_spec vocab_qwen3(const path & dir) {
    const llama_token_type control = LLAMA_TOKEN_TYPE_CONTROL;
    const llama_token_type user    = LLAMA_TOKEN_TYPE_USER_DEFINED;

    vocab_spec v;
    v.vocab_file    = vocab_file(dir, "ggml-vocab-qwen2.gguf");
    v.template_file = template_file(dir, "Qwen-Qwen3-0.6B.jinja");
    v.renames       = {
              { 151646, "<|object_ref_start|>", control },
              { 151647, "<|object_ref_end|>", control },
              { 151648, "<|box_start|>", control },
              { 151649, "<|box_end|>", control },
              { 151650, "<|quad_start|>", control },
              { 151651, "<|quad_end|>", control },
              { 151652, "<|vision_start|>", control },
              { 151653, "<|vision_end|>", control },
              { 151654, "<|vision_pad|>", control },
              { 151655, "<|image_pad|>", control },
              { 151656, "<|video_pad|>", control },
              { 151657, "<tool_call>", user },
              { 151658, "</tool_call>", user },
              { 151659, "<|fim_prefix|>", control },
              { 151660, "<|fim_middle|>", control },
              { 151661, "<|fim_suffix|>", control },
              { 151662, "<|fim_pad|>", control },
              { 151663, "<|repo_name|>", control },
              { 151664, "<|file_sep|>", control },
              { 151665, "<tool_response>", user },
              { 151666, "</tool_response>", user },
              { 151667, "<think>", user },
              { 151668, "</think>", user },
    };
    v.eos_id  = 151645;  // <|im_end|>
    v.add_bos = false;
    return v;
}

// Qwen3-Embedding: Qwen3's tokenizer, which ends every input with <|endoftext|>; the model
// pools that last token's state into the embedding.
vocab_spec vocab_qwen3_embedding(const path & dir) {
    vocab_spec v = vocab_qwen3(dir);
    v.eos_id     = 151643;  // <|endoftext|>
    v.add_eos    = true;
    return v;
}

// muse-glimmer: the Llama 3 BPE vocab with reserved slots named for the tokens its template
// and mtmd use. <|eom|> ends a message, not the turn, so it is deliberately not end-of-generation.
vocab_spec vocab_muse_glimmer(const path & dir) {
    const llama_token_type control = LLAMA_TOKEN_TYPE_CONTROL;

    vocab_spec v;
    v.vocab_file    = vocab_file(dir, "ggml-vocab-llama-bpe.gguf");
    v.template_file = template_file(dir, "muse-glimmer.jinja");
    v.renames       = {
              { 128002, "<|start|>", control },
              { 128003, "<|message|>", control },
              { 128004, "<|eot|>", control },
              { 128005, "<|eom|>", control },
              { 128008, "<|patch|>", control },  // an image in the template
              { 128010, "<|video|>", control },
              { 128011, "<|image_start|>", control },  // mtmd wraps image embeddings in
                                                       // these two
              { 128012, "<|image_end|>", control },
    };
    v.eos_id  = 128004;
    v.eot_id  = 128004;
    v.add_bos = true;
    return v;
}

text_hparams llama_tiny() {
    text_hparams hp;
    hp.arch           = TEXT_ARCH_LLAMA;
    hp.name           = "llama-tiny";
    hp.n_embd         = 128;
    hp.n_layer        = 4;
    hp.n_head         = 2;
    hp.n_head_kv      = 1;
    hp.head_dim       = 64;  // a head size every flash-attention kernel has
    hp.n_ff           = 256;
    hp.rope_freq_base = 500000.0f;
    hp.rms_eps        = 1e-5f;
    hp.type_embd      = GGML_TYPE_Q4_0;  // keeps the file under 20 MB; the tokenizer alone is 7.5 MB
    return hp;
}

text_hparams qwen3_tiny() {
    text_hparams hp;
    hp.arch           = TEXT_ARCH_QWEN3;
    hp.name           = "qwen3-tiny";
    hp.n_embd         = 64;
    hp.n_layer        = 4;
    hp.n_head         = 2;
    hp.n_head_kv      = 1;
    hp.head_dim       = 64;  // n_head * head_dim != n_embd, as in the real Qwen3-0.6B
    hp.n_ff           = 192;
    hp.rope_freq_base = 1000000.0f;
    hp.rms_eps        = 1e-6f;
    return hp;
}

// Qwen3-Embedding's layout (qwen3 with last-token pooling) at toy size. The short training
// context lets tests reach past it cheaply.
text_hparams qwen3_embed_tiny() {
    text_hparams hp;
    hp.arch           = TEXT_ARCH_QWEN3;
    hp.name           = "qwen3-embed-tiny";
    hp.n_ctx_train    = 512;
    hp.n_embd         = 64;
    hp.n_layer        = 2;
    hp.n_head         = 2;
    hp.n_head_kv      = 1;
    hp.head_dim       = 64;
    hp.n_ff           = 192;
    hp.rope_freq_base = 1000000.0f;
    hp.rms_eps        = 1e-6f;
    hp.pooling        = LLAMA_POOLING_TYPE_LAST;
    return hp;
}

text_hparams muse_glimmer_tiny() {
    text_hparams hp;
    hp.arch           = TEXT_ARCH_MUSE_GLIMMER;
    hp.name           = "muse-glimmer-tiny";
    hp.n_embd         = 64;
    hp.n_layer        = 4;
    hp.n_head         = 2;
    hp.n_head_kv      = 1;
    hp.head_dim       = 64;
    hp.n_ff           = 192;
    hp.rope_freq_base = 10000.0f;
    hp.rms_eps        = 1e-6f;
    hp.tied_output    = false;
    hp.type_embd      = GGML_TYPE_Q4_0;  // two vocab-sized matrices: Q4_0 keeps the file under 20 MB
    hp.n_swa          = 128;             // short, so tests reach past the window
    hp.swa_layers     = { true, true, true, false };
    hp.logit_scale    = 1.0f;
    hp.logit_softcap  = 30.0f;
    return hp;
}

// muse-arith before training (`muse train` starts from it): llama's layout in F32, which
// llama.cpp's optimizer needs (no f16 OUT_PROD), with an untied output matrix, since
// llama_opt_init leaves token_embd frozen. The vocabulary is muse's own (arith-vocab.h).
text_hparams muse_arith_init() {
    text_hparams hp;
    hp.arch           = TEXT_ARCH_LLAMA;
    hp.name           = "muse-arith-init";
    hp.n_ctx_train    = 4096;
    hp.n_embd         = 256;
    hp.n_layer        = 4;
    hp.n_head         = 4;
    hp.n_head_kv      = 4;
    hp.head_dim       = 64;
    hp.n_ff           = 768;
    hp.rope_freq_base = 10000.0f;
    hp.rms_eps        = 1e-5f;
    hp.tied_output    = false;
    hp.type_matmul    = GGML_TYPE_F32;
    hp.type_embd      = GGML_TYPE_F32;
    hp.file_type      = LLAMA_FTYPE_ALL_F32;
    hp.weight_stdev   = 0.02f;
    return hp;
}

// Real Qwen3 shapes (n_embd 1024 or 2048, 28 layers, 16 q / 8 kv heads of 128, tied output)
// with every matrix, the embeddings included, in one quantized type.
text_hparams qwen3_bench(const char * name, uint32_t n_embd, uint32_t n_ff, ggml_type type) {
    text_hparams hp;
    hp.arch           = TEXT_ARCH_QWEN3;
    hp.name           = name;
    hp.n_ctx_train    = 40960;
    hp.n_embd         = n_embd;
    hp.n_layer        = 28;
    hp.n_head         = 16;
    hp.n_head_kv      = 8;
    hp.head_dim       = 128;
    hp.n_ff           = n_ff;
    hp.rope_freq_base = 1000000.0f;
    hp.rms_eps        = 1e-6f;
    hp.type_matmul    = type;
    hp.type_embd      = type;
    hp.file_type      = type == GGML_TYPE_Q8_0 ? LLAMA_FTYPE_MOSTLY_Q8_0 : LLAMA_FTYPE_MOSTLY_Q4_0;
    return hp;
}

catalog_entry text_entry(const std::string & file, text_hparams hp, vocab_spec vocab) {
    return { file, [hp = std::move(hp), vocab = std::move(vocab)](model_file & f) {
                const gguf_context_ptr v = vocab_load(vocab);
                text_model_add(f, hp, v.get());
            } };
}

}  // namespace

std::vector<catalog_entry> catalog_list(model_set set, const path & dir) {
    std::vector<catalog_entry> entries;
    if (set == MODEL_SET_TINY) {
        entries.push_back(text_entry("llama-tiny.gguf", llama_tiny(), vocab_llama3(dir)));
        entries.push_back(text_entry("qwen3-tiny.gguf", qwen3_tiny(), vocab_qwen3(dir)));
        entries.push_back(text_entry("qwen3-embed-tiny.gguf", qwen3_embed_tiny(), vocab_qwen3_embedding(dir)));
        entries.push_back(text_entry("muse-glimmer-tiny.gguf", muse_glimmer_tiny(), vocab_muse_glimmer(dir)));
        entries.push_back({ "muse-arith-init.gguf", [dir](model_file & f) {
                               const gguf_context_ptr v =
                                   arith_vocab_build(template_file(dir, "Qwen-Qwen3-0.6B.jinja"));
                               text_model_add(f, muse_arith_init(), v.get());
                           } });
        entries.push_back({ "muse-glimmer-tiny-mmproj.gguf", [](model_file & f) {
                               vision_hparams hp;
                               hp.name        = "muse-glimmer-tiny-mmproj";
                               hp.n_embd_text = muse_glimmer_tiny().n_embd;
                               vision_projector_add(f, hp);
                           } });
        entries.push_back({ "llama-tiny-audio-mmproj.gguf", [](model_file & f) {
                               audio_hparams hp;
                               hp.name        = "llama-tiny-audio-mmproj";
                               hp.n_embd_text = llama_tiny().n_embd;
                               audio_projector_add(f, hp);
                           } });
    } else {
        const struct {
            const char * file;
            uint32_t     n_embd;
            uint32_t     n_ff;
            ggml_type    type;
        } shapes[] = {
            { "qwen3-0.6b-q8_0.gguf", 1024, 3072, GGML_TYPE_Q8_0 },
            { "qwen3-0.6b-q4_0.gguf", 1024, 3072, GGML_TYPE_Q4_0 },
            { "qwen3-1.7b-q8_0.gguf", 2048, 6144, GGML_TYPE_Q8_0 },
            { "qwen3-1.7b-q4_0.gguf", 2048, 6144, GGML_TYPE_Q4_0 },
        };
        for (const auto & s : shapes) {
            const std::string name = path(s.file).stem().string();
            entries.push_back(
                text_entry(s.file, qwen3_bench(name.c_str(), s.n_embd, s.n_ff, s.type), vocab_qwen3(dir)));
        }
    }
    return entries;
}

}  // namespace muse::tools
