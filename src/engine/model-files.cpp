#include "engine/model-files.h"

#include "chat-prompt-impl.h"
#include "engine/backend.h"
#include "engine/error.h"
#include "ggml.h"
#include "gguf.h"
#include "llama-cpp.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <cstdlib>
#include <memory>

namespace muse {

namespace fs = std::filesystem;

fs::path models_dir_default() {
    if (const char * env = std::getenv("MUSE_MODELS_DIR"); env && *env) {
        return env;
    }
    const char * home = std::getenv("HOME");
    if (!home || !*home) {
        throw input_error("no models dir: HOME is not set; set MUSE_MODELS_DIR or give the model as a path");
    }
    return fs::path(home) / ".local/share/muse/models";
}

static bool is_file(const fs::path & p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

static bool is_gguf_name(const std::string & file) {
    return file.size() > 5 && file.compare(file.size() - 5, 5, ".gguf") == 0;
}

std::string projector_find(const fs::path & model_path) {
    const fs::path    dir  = model_path.parent_path().empty() ? fs::path(".") : model_path.parent_path();
    const std::string stem = model_path.stem().string();
    for (const std::string & name : { stem + "-mmproj.gguf", stem + ".mmproj.gguf", "mmproj-" + stem + ".gguf" }) {
        if (is_file(dir / name)) {
            return (dir / name).string();
        }
    }
    std::vector<std::string> found;
    std::error_code          ec;
    for (const auto & e : fs::directory_iterator(dir, ec)) {
        const std::string file = e.path().filename().string();
        if (is_gguf_name(file) && file.find("mmproj") != std::string::npos && file.find(stem) != std::string::npos &&
            e.is_regular_file(ec)) {
            found.push_back(e.path().string());
        }
    }
    return found.size() == 1 ? found[0] : std::string();
}

model_files model_files_resolve(const std::string & given, const std::string & mmproj, const fs::path & dir_given) {
    model_files r{ given, mmproj, false };
    if (given.empty() || is_file(given) || given.find('/') != std::string::npos) {
        return r;  // a path: the loader names what is wrong with it
    }
    const fs::path dir = dir_given.empty() ? models_dir_default() : dir_given;
    for (const std::string & name : { given, given + ".gguf" }) {
        if (is_gguf_name(name) && is_file(dir / name)) {
            r.model   = (dir / name).string();
            r.mmproj  = mmproj.empty() ? projector_find(r.model) : mmproj;
            r.by_name = true;
            return r;
        }
    }
    throw input_error("-m " + given + ": no such file here, and no model of that name in " + dir.string() +
                      " (set by MUSE_MODELS_DIR); `muse list` shows the models there, `muse pull hf:OWNER/REPO/FILE.gguf` "
                      "downloads one, or give the .gguf file's path");
}

// The one general.architecture value a projector file has.
static std::string gguf_arch(const std::string & path) {
    gguf_init_params p{ true, nullptr };
    std::unique_ptr<gguf_context, decltype(&gguf_free)> g(gguf_init_from_file(path.c_str(), p), gguf_free);
    if (!g) {
        return "";
    }
    const int64_t k = gguf_find_key(g.get(), "general.architecture");
    return k >= 0 && gguf_get_kv_type(g.get(), k) == GGUF_TYPE_STRING ? gguf_get_val_str(g.get(), k) : "";
}

std::vector<model_entry> models_list(const fs::path & dir) {
    std::vector<model_entry> out;
    std::error_code          ec;
    for (const auto & e : fs::directory_iterator(dir, ec)) {
        const std::string file = e.path().filename().string();
        if (!is_gguf_name(file) || !e.is_regular_file(ec) || file.find("mmproj") != std::string::npos) {
            continue;
        }
        if (gguf_arch(e.path().string()) == "clip") {
            continue;  // a projector under another name
        }
        model_entry m;
        m.name   = e.path().stem().string();
        m.path   = e.path().string();
        m.mmproj = projector_find(e.path());
        m.bytes  = fs::file_size(e.path(), ec);
        if (!m.mmproj.empty()) {
            m.bytes += fs::file_size(m.mmproj, ec);
        }
        out.push_back(std::move(m));
    }
    std::sort(out.begin(), out.end(), [](const model_entry & a, const model_entry & b) { return a.name < b.name; });
    return out;
}

// "0.6B Q8_0": the parameter count and the type that holds most of the bytes, from the
// tensor directory (no weights are read).
static std::string weights_description(const std::string & path) {
    ggml_context *   meta = nullptr;
    gguf_init_params p{ true, &meta };
    std::unique_ptr<gguf_context, decltype(&gguf_free)> g(gguf_init_from_file(path.c_str(), p), gguf_free);
    std::unique_ptr<ggml_context, decltype(&ggml_free)> ctx(meta, ggml_free);
    if (!g || !ctx) {
        return "";
    }
    uint64_t                     n_params = 0;
    std::map<ggml_type, uint64_t> bytes;
    for (ggml_tensor * t = ggml_get_first_tensor(ctx.get()); t; t = ggml_get_next_tensor(ctx.get(), t)) {
        n_params += (uint64_t) ggml_nelements(t);
        bytes[t->type] += ggml_nbytes(t);
    }
    const auto most = std::max_element(bytes.begin(), bytes.end(), [](const auto & a, const auto & b) { return a.second < b.second; });
    char buf[64];
    if (n_params >= 1000000000ull) snprintf(buf, sizeof(buf), "%.1fB", n_params / 1e9);
    else snprintf(buf, sizeof(buf), "%.0fM", n_params / 1e6);
    std::string type = most == bytes.end() ? "" : ggml_type_name(most->first);
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return (char) std::toupper(c); });
    return std::string(buf) + (type.empty() ? "" : " " + type);
}

static bool gguf_flag(const gguf_context * g, const char * key) {
    const int64_t k = gguf_find_key(g, key);
    return k >= 0 && gguf_get_kv_type(g, k) == GGUF_TYPE_BOOL && gguf_get_val_bool(g, k);
}

model_summary model_summary_read(backend & be, const model_entry & entry) {
    model_summary s;
    be.take_last_errors();
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only         = true;
    llama_model_ptr m(llama_model_load_from_file(entry.path.c_str(), mp));
    if (!m) {
        const std::string why = be.take_last_errors();
        throw input_error(entry.path + ": llama.cpp cannot read this model" + (why.empty() ? "" : " (" + why + ")") +
                          "; it is damaged or of an architecture this build does not know — pull it again");
    }
    char buf[256];
    if (llama_model_meta_val_str(m.get(), "general.architecture", buf, sizeof(buf)) >= 0) s.arch = buf;
    s.n_ctx_train = llama_model_n_ctx_train(m.get());
    s.description = weights_description(entry.path);
    // Pooling (mean, cls, last; 0 is none) makes it an embedding model: its template, if any, is not for chat.
    if (llama_model_meta_val_str(m.get(), (s.arch + ".pooling_type").c_str(), buf, sizeof(buf)) >= 0 && std::string(buf) != "0") {
        s.embedding = true;
        return s;
    }
    try {
        const template_caps caps = template_caps_of(common_chat_templates_init(m.get(), "").get());
        s.tools                  = caps.tools;
        s.reasoning              = caps.reasoning;
    } catch (const std::exception &) {
        // A template that does not parse: no capabilities claimed; `muse info` says why.
    }
    if (!entry.mmproj.empty()) {
        gguf_init_params p{ true, nullptr };
        std::unique_ptr<gguf_context, decltype(&gguf_free)> g(gguf_init_from_file(entry.mmproj.c_str(), p), gguf_free);
        if (g) {
            s.vision = gguf_flag(g.get(), "clip.has_vision_encoder");
            s.audio  = gguf_flag(g.get(), "clip.has_audio_encoder");
        }
    }
    return s;
}

}  // namespace muse
