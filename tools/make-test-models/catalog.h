#pragma once
// Which models the maker writes: the tiny set the tests load and the bench set with real
// Qwen3 shapes. Each entry builds its file on demand, so --only reads only its own vocab.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "model-file.h"

namespace muse::tools {

enum model_set {
    MODEL_SET_TINY,
    MODEL_SET_BENCH,
};

struct catalog_entry {
    std::string                       file;   // e.g. "qwen3-tiny.gguf"
    std::function<void(model_file &)> build;  // adds its keys and tensors
};

// llama_cpp_dir: a llama.cpp source tree; its models/ holds the vocab files and templates.
std::vector<catalog_entry> catalog_list(model_set set, const std::filesystem::path & llama_cpp_dir);

}  // namespace muse::tools
