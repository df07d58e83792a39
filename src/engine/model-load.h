#pragma once
// Inside the engine: a GGUF's weights loaded by llama.cpp, for the chat model and the
// embedding model alike (mmap or not, load progress reported, llama.cpp's reason in the error).
#include "llama-cpp.h"

#include <functional>
#include <string>

namespace muse {

class backend;

// Throws input_error: "<path>: llama.cpp could not load this <what> (<reason>); the file is
// corrupt, truncated or of an architecture this build does not know<fix>".
llama_model_ptr model_weights_load(backend & be, const std::string & path, bool use_mmap,
                                   const std::function<bool(float)> & on_progress, const std::string & what,
                                   const std::string & fix = "");

}  // namespace muse
