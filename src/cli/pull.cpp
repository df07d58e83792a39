// `muse pull`: downloads a model into the models dir (resumed, sha256-checked) and prints its path.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cli/commands.h"
#include "cli/terminal.h"
#include "engine/error.h"
#include "engine/model-files.h"
#include "pull/download.h"
#include "pull/source.h"

namespace muse::cli {

struct pull_options {
    std::string source;
    std::string models_dir;
    std::string name;
    std::string sha256;
    int32_t     retries = 5;
};

// A bar redrawn in place on a terminal; otherwise a line every 10% (every 256 MiB when the size is unknown).
class pull_progress {
  public:
    explicit pull_progress(std::string name) : name_(std::move(name)), tty_(is_tty(stderr)) {}

    void update(const pull::download_progress & p) {
        const int         percent = p.total > 0 ? (int)(100.0 * p.done / p.total) : -1;
        const std::string amount  = p.total > 0 ? bytes_text(p.done) + " / " + bytes_text(p.total) : bytes_text(p.done);
        if (tty_) {
            const int width = 30;
            const int fill  = percent < 0 ? 0 : percent * width / 100;
            fprintf(stderr, "\r\033[K%s [%.*s%*s] %3d%% %s  %s/s", name_.c_str(), fill,
                    "==============================", width - fill, "", std::max(percent, 0), amount.c_str(),
                    bytes_text(p.rate).c_str());
            drawn_ = true;
        } else {
            if (p.rate == 0) {
                return;  // nothing received yet: the size may still be unknown
            }
            const int64_t step = percent >= 0 ? percent / 10 : (int64_t)(p.done >> 28);
            if (step == last_step_) {
                return;
            }
            last_step_ = step;
            fprintf(stderr, "%s: %s%s (%s/s)\n", name_.c_str(),
                    percent >= 0 ? (std::to_string(percent) + "%, ").c_str() : "", amount.c_str(),
                    bytes_text(p.rate).c_str());
        }
        fflush(stderr);
    }

    void end() {
        if (drawn_) {
            fputs("\r\033[K", stderr);
            drawn_ = false;
        }
    }

  private:
    std::string name_;
    bool        tty_;
    bool        drawn_     = false;
    int64_t     last_step_ = -1;
};

static std::string models_dir_resolve(const std::string & given) {
    return given.empty() ? models_dir_default().string() : given;
}

static std::string file_name_pick(const pull_options & o, const pull::pull_source & src) {
    const std::string name = o.name.empty() ? src.file_name : o.name;
    if (name.empty()) {
        throw input_error("cannot tell a file name from '" + o.source + "': give one with -o NAME");
    }
    if (name.find('/') != std::string::npos || name == "." || name == "..") {
        throw input_error("-o '" + name + "' is not a plain file name: give a name without '/', or use --models-dir " +
                          "to choose the folder");
    }
    return name;
}

static int pull_run(const pull_options & o, const std::atomic<bool> & cancel) {
    if (o.retries < 0) {
        throw input_error("--retries " + std::to_string(o.retries) + " is negative: give 0 or more");
    }
    const pull::pull_source src  = pull::source_parse(o.source, pull::source_env_read());
    const std::string       name = file_name_pick(o, src);
    const std::string       dir  = models_dir_resolve(o.models_dir);
    std::error_code         ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        throw muse::runtime_error("cannot create the models dir '" + dir + "': " + ec.message() +
                                  " — pick another with --models-dir or MUSE_MODELS_DIR");
    }

    pull::download_request req;
    req.url             = src.url;
    req.what            = src.what;
    req.dest            = (std::filesystem::path(dir) / name).string();
    req.expected_sha256 = o.sha256;
    req.bearer_token    = src.bearer_token;
    req.auth_hint       = src.auth_hint;
    req.missing_hint    = src.missing_hint;
    req.tries           = o.retries + 1;
    req.cancel          = &cancel;
    pull_progress bar(name);
    req.on_progress = [&bar](const pull::download_progress & p) { bar.update(p); };

    pull::download_result r;
    try {
        r = pull::download_file(req);
    } catch (const pull::download_cancelled & e) {
        bar.end();
        fprintf(stderr, "%s\n", e.what());
        return 130;
    } catch (...) {
        bar.end();
        throw;
    }
    bar.end();
    if (r.already_there) {
        fprintf(stderr, "%s: already there (%s)\n", name.c_str(),
                r.verified ? "sha256 matches" : ("not verified: " + r.unverified_why).c_str());
    } else if (r.verified) {
        fprintf(stderr, "%s: %s, sha256 %s verified\n", name.c_str(), bytes_text(r.size).c_str(), r.sha256.c_str());
    } else {
        fprintf(stderr, "%s: %s, not verified: %s (sha256 %s)\n", name.c_str(), bytes_text(r.size).c_str(),
                r.unverified_why.c_str(), r.sha256.c_str());
    }
    printf("%s\n", r.path.c_str());
    return 0;
}

void pull_command_add(CLI::App & app, command_runner & runner) {
    auto * cmd  = app.add_subcommand("pull", "download a model into the models dir (resumable, sha256-checked)");
    auto   opts = std::make_shared<pull_options>();
    cmd->add_option("source", opts->source, "hf:OWNER/REPO/FILE.gguf[@REVISION] or an http(s) URL")->required();
    cmd->add_option("--models-dir", opts->models_dir,
                    "where models go (default $MUSE_MODELS_DIR, else ~/.local/share/muse/models)");
    cmd->add_option("-o,--output", opts->name, "the file name in the models dir (default: the source's)");
    cmd->add_option("--sha256", opts->sha256, "the expected sha256 (default: the one the source publishes)");
    cmd->add_option("--retries", opts->retries, "resume a dropped connection this many times")->capture_default_str();
    cmd->callback([opts, &runner]() {
        runner.run = [opts](const std::atomic<bool> & cancel) { return pull_run(*opts, cancel); };
    });
}

}  // namespace muse::cli
