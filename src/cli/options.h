#pragma once
// Options shared by `muse run` and `muse chat`, and the objects they build.
#include "engine/chat-prompt.h"
#include "engine/model.h"
#include "engine/sampling-params.h"
#include "engine/session.h"

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

namespace muse::cli {

struct model_options {
    std::string model_path;
    std::string mmproj_path;
    std::string chat_template_file;
    int32_t     n_threads = 0;
    int32_t     n_ctx     = 0;
    bool        flash_attn = false;
    bool        verbose   = false;
};

struct generation_options {
    sampling_params          sampling;
    int32_t                  max_tokens   = -1;
    int32_t                  think_budget = -1;
    bool                     no_think     = false;
    std::string              system;
    std::string              json_schema;  // a file or inline JSON
    std::string              grammar_file;
    std::string              tools_file;   // OpenAI-style tool definitions (JSON array)
    std::vector<std::string> stop;
};

void model_options_add(CLI::App & app, model_options & o);
void generation_options_add(CLI::App & app, generation_options & o);

// Loads the model with a progress bar on a terminal.
std::unique_ptr<model> model_load(backend & be, const model_options & o);
context_params         context_params_make(const model_options & o, int32_t n_seq_max = 1);

// Applies the generation options to a chat request (system prompt, schema, grammar, budget).
void chat_request_apply(chat_request & req, const generation_options & o);
sequence_params sequence_params_make(const generation_options & o);

// Parses OpenAI-style tool definitions (an array, or an object with a "tools" array).
std::vector<chat_tool> tools_parse(const std::string & text, const std::string & origin);

std::string file_read(const std::string & path, const char * what);

}  // namespace muse::cli
