#include "engine/backend.h"

#include "llama.h"
#include "log.h"
#include "mtmd-helper.h"
#include "mtmd.h"

#include <cstdio>

namespace muse {

static void log_trampoline(ggml_log_level level, const char * text, void * user_data) {
    static_cast<backend *>(user_data)->on_log(static_cast<int>(level), text);
}

backend::backend(bool verbose) : verbose_(false) {
    set_verbose(verbose);
    llama_log_set(log_trampoline, this);
    mtmd_helper_log_set(log_trampoline, this);
    llama_backend_init();
}

backend::~backend() {
    llama_backend_free();
    llama_log_set(nullptr, nullptr);
}

void backend::set_verbose(bool verbose) {
    verbose_ = verbose;
    // llama-common logs on its own (parser and template warnings): quiet unless verbose.
    common_log_set_verbosity_thold(verbose ? LOG_LEVEL_DEBUG : -1);
}

void backend::on_log(int level, const char * text) {
    if (verbose_) {
        fputs(text, stderr);
    }
    if (level != GGML_LOG_LEVEL_ERROR && level != GGML_LOG_LEVEL_WARN && level != GGML_LOG_LEVEL_CONT) {
        return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    partial_ += text;
    size_t nl;
    while ((nl = partial_.find('\n')) != std::string::npos) {
        std::string line = partial_.substr(0, nl);
        partial_.erase(0, nl + 1);
        if (level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_CONT) {
            if (!line.empty()) {
                errors_.push_back(line);
            }
            while (errors_.size() > 4) {
                errors_.pop_front();
            }
        }
    }
}

std::string backend::take_last_errors() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    for (const auto & line : errors_) {
        out += (out.empty() ? "" : "; ") + line;
    }
    errors_.clear();
    return out;
}

}  // namespace muse
