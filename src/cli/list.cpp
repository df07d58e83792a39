// `muse list`: the models in the models dir, as `ollama list` shows them.
#include "cli/commands.h"
#include "cli/terminal.h"
#include "engine/backend.h"
#include "engine/error.h"
#include "engine/model-files.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace muse::cli {

struct list_options {
    std::string models_dir;
    bool        json = false;
};

static int list_run(const list_options & o) {
    const std::filesystem::path dir = o.models_dir.empty() ? models_dir_default() : std::filesystem::path(o.models_dir);
    const auto                  entries = models_list(dir);
    backend                     be(false);
    nlohmann::json              arr = nlohmann::json::array();
    if (!o.json) {
        if (entries.empty()) {
            fprintf(stderr, "no models in %s; `muse pull hf:OWNER/REPO/FILE.gguf` downloads one\n", dir.string().c_str());
            return 0;
        }
        printf("%-32s %10s  %-14s %-28s %s\n", "NAME", "SIZE", "ARCH", "MODEL", "CAPABILITIES");
    }
    for (const auto & e : entries) {
        model_summary s;
        std::string   problem;
        try {
            s = model_summary_read(be, e);
        } catch (const input_error & err) {
            problem = err.what();
        }
        std::vector<std::string> caps;
        if (s.vision) caps.push_back("vision");
        if (s.audio) caps.push_back("audio");
        if (s.tools) caps.push_back("tools");
        if (s.reasoning) caps.push_back("reasoning");
        if (s.embedding) caps.push_back("embedding");
        std::string caps_text;
        for (const auto & c : caps) caps_text += (caps_text.empty() ? "" : ", ") + c;
        if (o.json) {
            nlohmann::json j = { { "name", e.name }, { "path", e.path }, { "mmproj", e.mmproj }, { "size_bytes", e.bytes },
                                 { "architecture", s.arch }, { "description", s.description },
                                 { "context_length", s.n_ctx_train }, { "capabilities", caps } };
            if (!problem.empty()) j["error"] = problem;
            arr.push_back(j);
        } else if (!problem.empty()) {
            printf("%-32s %10s  unreadable: %s\n", e.name.c_str(), bytes_text(e.bytes).c_str(), problem.c_str());
        } else {
            printf("%-32s %10s  %-14s %-28s %s\n", e.name.c_str(), bytes_text(e.bytes).c_str(), s.arch.c_str(),
                   s.description.c_str(), caps_text.empty() ? "-" : caps_text.c_str());
        }
    }
    if (o.json) printf("%s\n", arr.dump(2).c_str());
    return 0;
}

void list_command_add(CLI::App & app, command_runner & runner) {
    auto * cmd  = app.add_subcommand("list", "show the models in the models dir (what `-m NAME` finds)");
    auto   opts = std::make_shared<list_options>();
    cmd->add_option("--models-dir", opts->models_dir, "the folder (default $MUSE_MODELS_DIR, else ~/.local/share/muse/models)");
    cmd->add_flag("--json", opts->json, "print JSON");
    cmd->callback([opts, &runner]() { runner.run = [opts](std::atomic<bool> &) { return list_run(*opts); }; });
}

}  // namespace muse::cli
