#include "engine/model.h"

#include "chat-prompt-impl.h"
#include "chat.h"
#include "engine/backend.h"
#include "engine/error.h"
#include "engine/model-load.h"
#include "engine/utf8-guard.h"
#include "common.h"
#include "llama-cpp.h"
#include "mtmd.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

namespace muse {

struct model::impl {
    llama_model_ptr           llama;
    mtmd::context_ptr         mtmd;
    common_chat_templates_ptr   templates;
    std::unique_ptr<utf8_guard> utf8;
};

void gguf_file_check(const std::string & path, const char * what) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (path.empty()) {
        throw input_error(std::string("no ") + what + " given; pass a .gguf file");
    }
    if (!fs::exists(path, ec)) {
        throw input_error(path + ": " + what + " not found; check the path");
    }
    if (fs::is_directory(path, ec)) {
        throw input_error(path + ": is a folder, not a " + what + " file; pass the .gguf file inside it");
    }
    const auto size = fs::file_size(path, ec);
    if (ec) {
        throw input_error(path + ": cannot read the " + what + " (" + ec.message() + ")");
    }
    if (size == 0) {
        throw input_error(path + ": the " + what + " file is empty (0 bytes); the download or copy did not finish — fetch it again");
    }
    std::unique_ptr<FILE, int (*)(FILE *)> f(fopen(path.c_str(), "rb"), fclose);
    if (!f) {
        throw input_error(path + ": cannot open the " + what + " (" + strerror(errno) + ")");
    }
    char magic[4] = {};
    const size_t n_read = fread(magic, 1, 4, f.get());
    if (n_read == 4 && memcmp(magic, "GGUF", 4) != 0) {
        throw input_error(path + ": not a GGUF file (magic bytes are not \"GGUF\"); muse loads .gguf models — "
                          "convert it with llama.cpp's convert_hf_to_gguf.py or download a GGUF build");
    }
    if (n_read < 4 || size < 24) {
        throw input_error(path + ": the " + what + " file is truncated (" + std::to_string(size) +
                          " bytes, shorter than a GGUF header); fetch it again");
    }
}

static std::string meta_str(const llama_model * m, const char * key) {
    char buf[512];
    const int32_t n = llama_model_meta_val_str(m, key, buf, sizeof(buf));
    return n < 0 ? std::string() : std::string(buf);
}

template_caps template_caps_of(const common_chat_templates * templates) {
    const auto caps = common_chat_templates_get_caps(templates);
    const auto cap  = [&](const char * k) { auto it = caps.find(k); return it != caps.end() && it->second; };
    template_caps c;
    c.tools     = cap("supports_tools") && cap("supports_tool_calls") &&
                  common_chat_templates_source(templates).find("tools") != std::string::npos;
    c.reasoning = common_chat_templates_support_enable_thinking(templates);
    c.parallel_calls = cap("supports_parallel_tool_calls");
    return c;
}

static bool progress_trampoline(float progress, void * user_data) {
    const auto & cb = *static_cast<const std::function<bool(float)> *>(user_data);
    return cb(progress);
}

llama_model_ptr model_weights_load(backend & be, const std::string & path, bool use_mmap,
                                   const std::function<bool(float)> & on_progress, const std::string & what,
                                   const std::string & fix) {
    be.take_last_errors();
    llama_model_params mparams = llama_model_default_params();
    mparams.load_mode          = use_mmap ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
    if (on_progress) {
        mparams.progress_callback           = progress_trampoline;
        mparams.progress_callback_user_data = const_cast<std::function<bool(float)> *>(&on_progress);
    }
    llama_model_ptr m(llama_model_load_from_file(path.c_str(), mparams));
    if (!m) {
        const std::string why = be.take_last_errors();
        throw input_error(path + ": llama.cpp could not load this " + what + (why.empty() ? "" : " (" + why + ")") +
                          "; the file is corrupt, truncated or of an architecture this build does not know" + fix);
    }
    return m;
}

model::model(backend & be, const model_params & params) : backend_(be), impl_(std::make_unique<impl>()) {
    gguf_file_check(params.path, "model");
    impl_->llama = model_weights_load(be, params.path, params.use_mmap, params.on_progress, "model",
                                      " — fetch it again or check `muse info`");
    llama_model * m = impl_->llama.get();

    try {
        impl_->templates = common_chat_templates_init(m, params.chat_template);
    } catch (const std::exception & e) {
        throw input_error(params.path + ": its chat template does not parse (" + e.what() +
                          "); pass a working one with --chat-template-file");
    }

    info_.path        = params.path;
    info_.arch        = meta_str(m, "general.architecture");
    info_.name        = meta_str(m, "general.name");
    char desc[256];
    llama_model_desc(m, desc, sizeof(desc));
    info_.description   = desc;
    info_.n_params      = llama_model_n_params(m);
    info_.size_bytes    = llama_model_size(m);
    info_.n_ctx_train   = llama_model_n_ctx_train(m);
    info_.n_embd        = llama_model_n_embd(m);
    info_.n_layer       = llama_model_n_layer(m);
    info_.n_vocab       = llama_vocab_n_tokens(llama_model_get_vocab(m));
    info_.n_head        = llama_model_n_head(m);
    info_.n_head_kv     = llama_model_n_head_kv(m);
    {
        const auto key_len = [&](const char * what) {
            const std::string v = meta_str(m, (info_.arch + ".attention." + what).c_str());
            const long n = v.empty() ? 0 : strtol(v.c_str(), nullptr, 10);
            return n > 0 ? n : (info_.n_head > 0 ? info_.n_embd / info_.n_head : 0);
        };
        info_.kv_bytes_per_token = (uint64_t) info_.n_layer * (uint64_t) info_.n_head_kv *
                                   (uint64_t) (key_len("key_length") + key_len("value_length")) * 2u;
    }
    info_.chat_template = common_chat_templates_source(impl_->templates.get());
    const template_caps caps = template_caps_of(impl_->templates.get());
    info_.has_tools          = caps.tools;
    info_.has_reasoning      = caps.reasoning;

    std::vector<std::string> pieces((size_t) info_.n_vocab);
    for (int32_t t = 0; t < info_.n_vocab; ++t) {
        pieces[(size_t) t] = common_token_to_piece(llama_model_get_vocab(m), t, true);
    }
    impl_->utf8 = std::make_unique<utf8_guard>(std::move(pieces));

    if (!params.mmproj_path.empty()) {
        gguf_file_check(params.mmproj_path, "projector (mmproj)");
        mtmd_context_params cparams = mtmd_context_params_default();
        cparams.use_gpu             = false;
        cparams.print_timings       = false;
        cparams.warmup              = false;
        cparams.n_threads = params.n_threads > 0 ? params.n_threads : (int) std::thread::hardware_concurrency();
        cparams.flash_attn_type     = LLAMA_FLASH_ATTN_TYPE_DISABLED;
        std::random_device rd;
        char               marker[40];
        snprintf(marker, sizeof(marker), "<__media_%08x%08x__>", rd(), rd());
        media_marker_        = marker;
        cparams.media_marker = media_marker_.c_str();
        impl_->mtmd.reset(mtmd_init_from_file(params.mmproj_path.c_str(), m, cparams));
        if (!impl_->mtmd) {
            std::string why = be.take_last_errors();
            throw input_error(params.mmproj_path + ": llama.cpp could not load this projector for " + params.path +
                              (why.empty() ? "" : " (" + why + ")") +
                              "; use the mmproj file published with this exact model");
        }
        info_.mmproj_path = params.mmproj_path;
        info_.has_vision  = mtmd_support_vision(impl_->mtmd.get());
        info_.has_audio   = mtmd_support_audio(impl_->mtmd.get());
    }
}

model::~model() = default;

llama_model *                 model::get() const { return impl_->llama.get(); }
const llama_vocab *           model::vocab() const { return llama_model_get_vocab(impl_->llama.get()); }
mtmd_context *                model::projector() const { return impl_->mtmd.get(); }
const common_chat_templates * model::templates() const { return impl_->templates.get(); }
const utf8_guard &            model::utf8() const { return *impl_->utf8; }

std::vector<int32_t> model::tokenize(const std::string & text) const {
    return common_tokenize(vocab(), text, true, true);
}

const std::string & model::token_text(int32_t token) const {
    if (token < 0 || token >= llama_vocab_n_tokens(vocab())) {
        throw input_error("token id " + std::to_string(token) + " is outside the vocabulary");
    }
    return utf8().piece(token);  // the guard holds every token's text already
}

}  // namespace muse
