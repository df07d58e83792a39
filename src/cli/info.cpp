// `muse info`: what a model file is and what it can do.
#include "cli/commands.h"
#include "cli/options.h"
#include "engine/backend.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace muse::cli {

struct info_options {
    model_options model;
    bool          json = false;
    bool          show_template = false;
};

static std::string human_size(uint64_t bytes) {
    char buf[32];
    if (bytes >= (1ull << 30)) snprintf(buf, sizeof(buf), "%.2f GiB", bytes / double(1ull << 30));
    else snprintf(buf, sizeof(buf), "%.1f MiB", bytes / double(1ull << 20));
    return buf;
}

static std::string human_count(uint64_t n) {
    char buf[32];
    if (n >= 1000000000ull) snprintf(buf, sizeof(buf), "%.2fB", n / 1e9);
    else if (n >= 1000000ull) snprintf(buf, sizeof(buf), "%.1fM", n / 1e6);
    else snprintf(buf, sizeof(buf), "%.1fK", n / 1e3);
    return buf;
}

void info_command_add(CLI::App & app, command_runner & runner) {
    auto * cmd  = app.add_subcommand("info", "show a model's metadata and capabilities");
    auto   opts = std::make_shared<info_options>();
    model_options_add(*cmd, opts->model);
    cmd->add_flag("--json", opts->json, "print JSON");
    cmd->add_flag("--template", opts->show_template, "also print the chat template");
    cmd->callback([opts, &runner]() {
        runner.run = [opts](const std::atomic<bool> &) {
            backend be(opts->model.verbose);
            auto    mdl = model_load(be, opts->model);
            const model_info & i = mdl->info();
            if (opts->json) {
                nlohmann::json j = {
                    { "path", i.path },           { "architecture", i.arch },   { "name", i.name },
                    { "description", i.description }, { "parameters", i.n_params }, { "size_bytes", i.size_bytes },
                    { "context_length", i.n_ctx_train }, { "embedding_length", i.n_embd }, { "layers", i.n_layer },
                    { "vocab_size", i.n_vocab },  { "mmproj", i.mmproj_path },
                    { "capabilities", { { "vision", i.has_vision }, { "audio", i.has_audio }, { "tools", i.has_tools },
                                        { "reasoning", i.has_reasoning } } },
                };
                if (opts->show_template) {
                    j["chat_template"] = i.chat_template;
                }
                printf("%s\n", j.dump(2).c_str());
                return 0;
            }
            const auto yes = [](bool b) { return b ? "yes" : "no"; };
            printf("model          %s\n", i.path.c_str());
            printf("architecture   %s\n", i.arch.c_str());
            if (!i.name.empty()) printf("name           %s\n", i.name.c_str());
            printf("description    %s\n", i.description.c_str());
            printf("parameters     %s (%llu)\n", human_count(i.n_params).c_str(), (unsigned long long) i.n_params);
            printf("size           %s\n", human_size(i.size_bytes).c_str());
            printf("context        %d tokens (training)\n", i.n_ctx_train);
            printf("shape          %d layers, %d embedding, %d vocabulary\n", i.n_layer, i.n_embd, i.n_vocab);
            printf("vision         %s\n", yes(i.has_vision));
            printf("audio          %s\n", yes(i.has_audio));
            printf("tools          %s\n", yes(i.has_tools));
            printf("reasoning      %s\n", yes(i.has_reasoning));
            if (!i.mmproj_path.empty()) printf("projector      %s\n", i.mmproj_path.c_str());
            if (opts->show_template) printf("\n%s\n", i.chat_template.c_str());
            return 0;
        };
    });
}

}  // namespace muse::cli
