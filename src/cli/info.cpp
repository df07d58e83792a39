// `muse info`: what a model file is and what it can do; `--system`: the machine and the build.
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/terminal.h"
#include "engine/backend.h"
#include "engine/system-info.h"
#include "server/system-json.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace muse::cli {

struct info_options {
    model_options model;
    bool          json = false;
    bool          show_template = false;
    bool          system = false;
};

static std::string human_count(uint64_t n) {
    char buf[32];
    if (n >= 1000000000ull) snprintf(buf, sizeof(buf), "%.2fB", n / 1e9);
    else if (n >= 1000000ull) snprintf(buf, sizeof(buf), "%.1fM", n / 1e6);
    else snprintf(buf, sizeof(buf), "%.1fK", n / 1e3);
    return buf;
}

// AMX is the one kernel family that needs all three: a CPU with it, a build for it, and the
// OS granting the tile state; say which one is missing.
static std::string amx_state(const system_info & s) {
    const bool cpu    = system_info_has(s.cpu_features, "amx_int8");
    const bool built  = system_info_has(s.kernels_built, "AMX_INT8");
    const bool in_use = system_info_has(s.kernels_in_use, "AMX");
    if (built && in_use) return "built and in use";
    if (built) return cpu ? "built, not in use (the OS did not grant AMX tile state; Linux 5.16 or later does)"
                          : "built, not in use (this CPU has no AMX)";
    return cpu ? "not built, though this CPU has it (build on this CPU without MUSE_PORTABLE)"
               : "not built (this CPU has no AMX)";
}

static int system_print(bool json) {
    const system_info s = system_info_read();
    if (json) {
        printf("%s\n", server::system_info_json(s).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return 0;
    }
    const auto join = [](const std::vector<std::string> & v) {
        std::string out;
        for (const auto & x : v) out += (out.empty() ? "" : " ") + x;
        return out.empty() ? std::string("none") : out;
    };
    std::string patches;
    for (const auto & p : s.llama_cpp_patches) {
        patches += (patches.empty() ? "" : ", ") + p.name +
                   (p.applied == 1 ? " (applied)" : p.applied == 0 ? " (NOT applied: run scripts/setup.sh)" : " (unknown)");
    }
    printf("muse           %s%s\n", s.version.c_str(), s.commit.empty() ? "" : (" (" + s.commit + ")").c_str());
    printf("llama.cpp      %s\n", s.llama_cpp_commit.c_str());
    if (!patches.empty()) printf("patches        %s\n", patches.c_str());
    printf("cpu            %s\n", s.cpu_model.c_str());
    printf("cpu features   %s\n", join(s.cpu_features).c_str());
    printf("cores          %d logical; %d threads by default (-t)\n", s.logical_cores, s.threads_default);
    printf("kernels built  %s\n", join(s.kernels_built).c_str());
    printf("kernels in use %s\n", join(s.kernels_in_use).c_str());
    printf("amx            %s\n", amx_state(s).c_str());
    if (!s.cpu_lacks.empty()) {
        printf("WARNING        built for %s, which this CPU lacks: expect SIGILL; rebuild on this CPU, or with MUSE_PORTABLE=1\n",
               join(s.cpu_lacks).c_str());
    }
    return 0;
}

void info_command_add(CLI::App & app, command_runner & runner) {
    auto * cmd  = app.add_subcommand("info", "show a model's metadata and capabilities, or (--system) the machine and build");
    auto   opts = std::make_shared<info_options>();
    model_options_add(*cmd, opts->model);
    // -m is required by model_options_add; here only without --system.
    auto * model_opt = cmd->get_option("--model");
    model_opt->required(false);
    cmd->add_flag("--system", opts->system, "show the CPU, its features, the kernels built and in use, and the versions")
        ->excludes(model_opt);
    cmd->add_flag("--json", opts->json, "print JSON");
    cmd->add_flag("--template", opts->show_template, "also print the chat template");
    cmd->callback([opts, &runner]() {
        if (!opts->system && opts->model.model_path.empty()) {
            throw CLI::RequiredError("--model (or --system)");
        }
        runner.run = [opts](std::atomic<bool> &) {
            if (opts->system) return system_print(opts->json);
            model_options_check(opts->model);
            backend be(opts->model.verbose);
            auto    mdl = model_load(be, opts->model);
            const model_info & i = mdl->info();
            std::error_code    size_error;
            const uint64_t     file_bytes = std::filesystem::file_size(i.path, size_error);
            if (opts->json) {
                nlohmann::json j = {
                    { "path", i.path },           { "architecture", i.arch },   { "name", i.name },
                    { "description", i.description }, { "parameters", i.n_params }, { "size_bytes", i.size_bytes },
                    { "file_bytes", size_error ? nlohmann::json(nullptr) : nlohmann::json(file_bytes) },
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
            printf("size           %s\n", bytes_text(i.size_bytes).c_str());
            if (!size_error) printf("size on disk   %s (%llu bytes)\n", bytes_text(file_bytes).c_str(), (unsigned long long) file_bytes);
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
