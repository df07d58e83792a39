#pragma once
// Options shared by `muse run` and `muse chat`, and the objects they build.
#include "engine/chat-prompt.h"
#include "engine/model.h"
#include "engine/sampling-params.h"
#include "engine/session.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
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
    int64_t                  seed         = -1;  // -1: random (sampling.seed is set by generation_options_check)
    int32_t                  max_tokens   = -1;
    int32_t                  think_budget = -1;
    bool                     no_think     = false;
    std::string              system;
    std::string              json_schema;  // a file or inline JSON
    std::string              grammar_file;
    std::string              tools_file;   // OpenAI-style tool definitions (JSON array)
    std::vector<std::string> stop;

    // Read by generation_options_check, before the model loads.
    std::string              json_schema_text;
    std::string              grammar_text;
    std::vector<chat_tool>   tools;
};

void model_options_add(CLI::App & app, model_options & o);
void generation_options_add(CLI::App & app, generation_options & o);

// Before the model loads: -m NAME becomes the file in the models dir (and its projector), and
// the files the options name are read and checked (JSON schema, grammar, tools, template).
void model_options_check(model_options & o);
void generation_options_check(generation_options & o);

// A file that must exist before anything loads (--image, --audio, -f): named by its flag.
void input_file_check(const std::string & path, const char * flag);

// Loads the model with a progress bar on a terminal.
std::unique_ptr<model> model_load(backend & be, const model_options & o);
context_params         context_params_make(const model_options & o, int32_t n_seq_max = 1);

// Says once when the session's context differs from the --ctx-size asked for.
void context_size_note(const model_options & o, const session & s);

// Says once when a reasoning option cannot act on this model (its template has no reasoning).
void reasoning_options_note(const model & m, const generation_options & g, const std::string & mode);

// Applies the generation options to a chat request (system prompt, schema, grammar, budget).
void chat_request_apply(chat_request & req, const generation_options & o);
sequence_params sequence_params_make(const generation_options & o);

// Parses JSON text, or says where it is malformed: "FILE: line 3, column 14: ...".
nlohmann::json json_parse_located(const std::string & text, const std::string & origin);

// Parses OpenAI-style tool definitions (an array, or an object with a "tools" array).
std::vector<chat_tool> tools_parse(const std::string & text, const std::string & origin);

std::string file_read(const std::string & path, const char * what);

}  // namespace muse::cli
