#include "cli/options.h"

#include "cli/terminal.h"
#include "engine/error.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <fstream>
#include <sstream>

namespace muse::cli {

void model_options_add(CLI::App & app, model_options & o) {
    app.add_option("-m,--model", o.model_path, "GGUF model file")->required();
    app.add_option("--mmproj", o.mmproj_path, "multimodal projector (mmproj) GGUF for images/audio");
    app.add_option("--chat-template-file", o.chat_template_file, "jinja chat template to use instead of the model's");
    app.add_option("-t,--threads", o.n_threads, "CPU threads (default: all cores)")->check(CLI::Range(0, 1024));
    app.add_option("-c,--ctx-size", o.n_ctx, "context size in tokens (default: the model's, at most 8192)")
        ->check(CLI::Range(0, 1 << 24));
    app.add_flag("--flash-attn", o.flash_attn,
                 "flash attention (on this CPU: faster prefill, slower decode at depth; off by default)");
    app.add_flag("-v,--verbose", o.verbose, "show llama.cpp's log");
}

void generation_options_add(CLI::App & app, generation_options & o) {
    auto & s = o.sampling;
    app.add_option("-n,--max-tokens", o.max_tokens, "most tokens to generate (-1: until the model stops)")
        ->check(CLI::Range(-1, 1 << 24));
    app.add_option("--seed", s.seed, "random seed (default: random)");
    app.add_option("--temp", s.temperature, "temperature (0: greedy)")->capture_default_str();
    app.add_option("--top-k", s.top_k, "top-k (0: off)")->capture_default_str();
    app.add_option("--top-p", s.top_p, "top-p (1: off)")->capture_default_str();
    app.add_option("--min-p", s.min_p, "min-p (0: off)")->capture_default_str();
    app.add_option("--repeat-penalty", s.repeat_penalty, "repetition penalty (1: off)")->capture_default_str();
    app.add_option("--repeat-last-n", s.repeat_last_n, "tokens the repetition penalty looks back over");
    app.add_option("--presence-penalty", s.presence_penalty, "presence penalty (0: off)");
    app.add_option("--frequency-penalty", s.frequency_penalty, "frequency penalty (0: off)");
    app.add_option("--system", o.system, "system prompt");
    app.add_option("--json-schema", o.json_schema, "constrain the answer to a JSON schema (a file, or inline JSON)");
    app.add_option("--grammar", o.grammar_file, "constrain the answer to a GBNF grammar file");
    app.add_option("--think-budget", o.think_budget, "reasoning tokens before the end of reasoning is forced")
        ->check(CLI::Range(-1, 1 << 24));
    app.add_flag("--no-think", o.no_think, "answer directly, without reasoning (where the template allows)");
    app.add_option("--stop", o.stop, "stop string (repeatable)");
    app.add_option("--tools", o.tools_file, "tools the model may call: a JSON file with an OpenAI-style \"tools\" array");
}

std::string file_read(const std::string & path, const char * what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw input_error(path + ": cannot read the " + what + " file; check the path");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::unique_ptr<model> model_load(backend & be, const model_options & o) {
    model_params mp;
    mp.path        = o.model_path;
    mp.mmproj_path = o.mmproj_path;
    mp.n_threads   = o.n_threads;
    if (!o.chat_template_file.empty()) {
        mp.chat_template = file_read(o.chat_template_file, "chat template");
    }
    progress_bar bar("loading " + o.model_path);
    mp.on_progress = [&](float p) {
        bar.update(p);
        return true;
    };
    auto m = std::make_unique<model>(be, mp);
    bar.done();
    return m;
}

context_params context_params_make(const model_options & o, int32_t n_seq_max) {
    context_params cp;
    cp.n_ctx     = o.n_ctx;
    cp.n_threads = o.n_threads;
    cp.n_seq_max = n_seq_max;
    cp.flash_attn = o.flash_attn;
    return cp;
}

std::vector<chat_tool> tools_parse(const std::string & text, const std::string & origin) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_object() && j.contains("tools")) {
        j = j["tools"];
    }
    if (!j.is_array()) {
        throw input_error(origin + ": expected a JSON array of tools ([{\"type\":\"function\",\"function\":{...}}])");
    }
    std::vector<chat_tool> tools;
    for (size_t i = 0; i < j.size(); ++i) {
        const auto & t  = j[i];
        const auto & fn = t.contains("function") ? t["function"] : t;
        if (!fn.is_object() || !fn.contains("name") || !fn["name"].is_string()) {
            throw input_error(origin + ": tool #" + std::to_string(i) + " has no function name");
        }
        chat_tool ct;
        ct.name        = fn["name"].get<std::string>();
        ct.description = fn.value("description", "");
        ct.parameters  = fn.contains("parameters") ? fn["parameters"].dump() : "{\"type\":\"object\"}";
        tools.push_back(std::move(ct));
    }
    return tools;
}

void chat_request_apply(chat_request & req, const generation_options & o) {
    if (!o.system.empty()) {
        chat_message sys;
        sys.role    = "system";
        sys.content = o.system;
        req.messages.insert(req.messages.begin(), sys);
    }
    if (!o.json_schema.empty()) {
        const auto first = o.json_schema.find_first_not_of(" \t\r\n");
        req.json_schema  = first != std::string::npos && o.json_schema[first] == '{' ?
                               o.json_schema :
                               file_read(o.json_schema, "JSON schema");
    }
    if (!o.grammar_file.empty()) {
        req.grammar = file_read(o.grammar_file, "grammar");
    }
    if (!o.tools_file.empty()) {
        req.tools = tools_parse(file_read(o.tools_file, "tools"), o.tools_file);
    }
    req.think_budget    = o.think_budget;
    req.enable_thinking = !o.no_think;
}

sequence_params sequence_params_make(const generation_options & o) {
    sequence_params sp;
    sp.sampling   = o.sampling;
    sp.max_tokens = o.max_tokens;
    sp.stop       = o.stop;
    return sp;
}

}  // namespace muse::cli
