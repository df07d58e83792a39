#include "cli/options.h"

#include "cli/terminal.h"
#include "engine/error.h"
#include "engine/model-files.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace muse::cli {

// CLI11 checks, so that a bad value is refused by its flag's name before anything loads.
static CLI::Validator number_in(double lo, double hi, bool lo_open, const std::string & text) {
    return CLI::Validator(
        [=](std::string & v) -> std::string {
            char *       end = nullptr;
            const double x   = std::strtod(v.c_str(), &end);
            if (end == v.c_str() || *end != '\0' || !std::isfinite(x) || x > hi || (lo_open ? x <= lo : x < lo)) {
                return "value " + v + " is not " + text;
            }
            return "";
        },
        text);
}

void model_options_add(CLI::App & app, model_options & o) {
    app.add_option("-m,--model", o.model_path,
                   "GGUF model file, or the NAME of one in the models dir (`muse list`; with its mmproj)")
        ->required();
    app.add_option("--mmproj", o.mmproj_path, "multimodal projector (mmproj) GGUF for images/audio");
    app.add_option("--chat-template-file", o.chat_template_file, "jinja chat template to use instead of the model's");
    app.add_option("-t,--threads", o.n_threads, "CPU threads (0: all cores)")->check(CLI::Range(0, 1024))->capture_default_str();
    app.add_option("-c,--ctx-size", o.n_ctx, "context size in tokens (0: the model's, at most 8192; a multiple of 256)")
        ->check(CLI::Range(0, 1 << 24))
        ->capture_default_str();
    app.add_flag("--flash-attn", o.flash_attn,
                 "flash attention (on this CPU: faster prefill, slower decode at depth; off by default)");
    app.add_flag("-v,--verbose", o.verbose, "show llama.cpp's log");
}

void generation_options_add(CLI::App & app, generation_options & o) {
    auto & s = o.sampling;
    app.add_option("-n,--max-tokens", o.max_tokens, "most tokens to generate (-1: until the model stops)")
        ->check(CLI::Range(-1, 1 << 24))
        ->capture_default_str();
    app.add_option("--seed", o.seed, "random seed (-1: a random one, shown by --stats)")
        ->check(CLI::Range((int64_t) -1, (int64_t) 0xFFFFFFFE))
        ->capture_default_str();
    app.add_option("--temp", s.temperature, "temperature (0: greedy)")->check(number_in(0, 5, false, "in [0, 5]"))->capture_default_str();
    app.add_option("--top-k", s.top_k, "top-k (0: off)")->check(CLI::Range(0, 1 << 24))->capture_default_str();
    app.add_option("--top-p", s.top_p, "top-p (1: off)")->check(number_in(0, 1, true, "in (0, 1]"))->capture_default_str();
    app.add_option("--min-p", s.min_p, "min-p (0: off)")->check(number_in(0, 1, false, "in [0, 1]"))->capture_default_str();
    app.add_option("--repeat-penalty", s.repeat_penalty, "repetition penalty (1: off)")
        ->check(number_in(0, 10, true, "in (0, 10]"))
        ->capture_default_str();
    app.add_option("--repeat-last-n", s.repeat_last_n, "tokens the repetition penalty looks back over (-1: all)")
        ->check(CLI::Range(-1, 1 << 24))
        ->capture_default_str();
    app.add_option("--presence-penalty", s.presence_penalty, "presence penalty (0: off)")
        ->check(number_in(-2, 2, false, "in [-2, 2]"))
        ->capture_default_str();
    app.add_option("--frequency-penalty", s.frequency_penalty, "frequency penalty (0: off)")
        ->check(number_in(-2, 2, false, "in [-2, 2]"))
        ->capture_default_str();
    app.add_option("--system", o.system, "system prompt");
    app.add_option("--json-schema", o.json_schema, "constrain the answer to a JSON schema (a file, or inline JSON)");
    app.add_option("--grammar", o.grammar_file, "constrain the answer to a GBNF grammar file");
    app.add_option("--think-budget", o.think_budget, "reasoning tokens before the end of reasoning is forced (-1: no limit)")
        ->check(CLI::Range(-1, 1 << 24))
        ->capture_default_str();
    app.add_flag("--no-think", o.no_think, "answer directly, without reasoning (where the template allows)");
    app.add_option("--stop", o.stop, "stop string (repeatable)")->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--tools", o.tools_file, "tools the model may call: a JSON file with an OpenAI-style \"tools\" array");
}

std::string file_read(const std::string & path, const char * what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw input_error(path + ": cannot read the " + what + " file (" + std::strerror(errno) + "); check the path");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void input_file_check(const std::string & path, const char * flag) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw input_error(std::string(flag) + " " + path + ": is a folder; give a file");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw input_error(std::string(flag) + " " + path + ": cannot read it (" + std::strerror(errno) + "); check the path");
    }
}

nlohmann::json json_parse_located(const std::string & text, const std::string & origin) {
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error & e) {
        // e.byte is 1-based, just past the offending character.
        const size_t at   = e.byte > 0 ? std::min<size_t>(e.byte - 1, text.size()) : 0;
        size_t       line = 1, col = 1;
        for (size_t i = 0; i < at; ++i) {
            if (text[i] == '\n') line++, col = 1;
            else col++;
        }
        std::string why = e.what();
        if (const size_t p = why.find("syntax error"); p != std::string::npos) why = why.substr(p);
        throw input_error(origin + ": line " + std::to_string(line) + ", column " + std::to_string(col) +
                          ": not valid JSON (" + why + "); fix it there");
    }
}

void model_options_check(model_options & o) {
    const model_files f = model_files_resolve(o.model_path, o.mmproj_path);
    o.model_path  = f.model;
    o.mmproj_path = f.mmproj;
    if (!o.mmproj_path.empty()) input_file_check(o.mmproj_path, "--mmproj");
    if (!o.chat_template_file.empty()) input_file_check(o.chat_template_file, "--chat-template-file");
}

void generation_options_check(generation_options & o) {
    if (!o.json_schema.empty()) {
        const auto first   = o.json_schema.find_first_not_of(" \t\r\n");
        const bool inline_ = first != std::string::npos && o.json_schema[first] == '{';
        o.json_schema_text = inline_ ? o.json_schema : file_read(o.json_schema, "JSON schema");
        const auto j = json_parse_located(o.json_schema_text, inline_ ? "--json-schema" : "--json-schema " + o.json_schema);
        if (!j.is_object()) {
            throw input_error("--json-schema " + (inline_ ? std::string("(inline)") : o.json_schema) +
                              ": a JSON schema is an object ({\"type\": ...}), not " + j.type_name());
        }
    }
    if (!o.grammar_file.empty()) {
        o.grammar_text = file_read(o.grammar_file, "grammar");
    }
    if (!o.tools_file.empty()) {
        o.tools = tools_parse(file_read(o.tools_file, "tools"), "--tools " + o.tools_file);
    }
    o.sampling.seed = o.seed >= 0 ? (uint32_t) o.seed : (uint32_t) (std::random_device{}() % 0xFFFFFFFFu);
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

void context_size_note(const model_options & o, const session & s) {
    if (o.n_ctx > 0 && s.n_ctx() != o.n_ctx) {
        fprintf(stderr, "note: --ctx-size %d raised to %d tokens (llama.cpp sizes the context in steps of 256)\n", o.n_ctx,
                s.n_ctx());
    }
}

void reasoning_options_note(const model & m, const generation_options & g, const std::string & mode) {
    if (m.info().has_reasoning) {
        return;
    }
    std::vector<std::string> flags;
    if (g.think_budget >= 0) flags.push_back("--think-budget");
    if (mode == "thinking") flags.push_back("--mode thinking");
    if (g.no_think) flags.push_back("--no-think");
    if (flags.empty()) {
        return;
    }
    std::string list;
    for (const auto & f : flags) list += (list.empty() ? "" : ", ") + f;
    fprintf(stderr, "warning: %s %s no effect: %s's chat template has no reasoning to switch or bound\n", list.c_str(),
            flags.size() > 1 ? "have" : "has", m.info().path.c_str());
}

std::vector<chat_tool> tools_parse(const std::string & text, const std::string & origin) {
    auto j = json_parse_located(text, origin);
    if (j.is_object() && j.contains("tools")) {
        j = j["tools"];
    }
    if (!j.is_array()) {
        throw input_error(origin + ": expected a JSON array of tools ([{\"type\":\"function\",\"function\":{...}}])");
    }
    std::vector<chat_tool> tools;
    for (size_t i = 0; i < j.size(); ++i) {
        const auto & t  = j[i];
        const auto & fn = t.is_object() && t.contains("function") ? t["function"] : t;
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
    req.json_schema     = o.json_schema_text;
    req.grammar         = o.grammar_text;
    req.tools           = o.tools;
    req.think_budget    = o.think_budget;
    req.enable_thinking = !o.no_think;
    think_budget_for_constraints(req, o.max_tokens);
}

sequence_params sequence_params_make(const generation_options & o) {
    sequence_params sp;
    sp.sampling   = o.sampling;
    sp.max_tokens = o.max_tokens;
    sp.stop       = o.stop;
    return sp;
}

}  // namespace muse::cli
