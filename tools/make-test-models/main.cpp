// muse-make-test-models: writes random-weight GGUF models with real llama.cpp
// architectures, real tokenizers and real chat templates, for tests and benchmarks.
// The same --seed gives byte-identical files.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>

#include "catalog.h"
#include "model-file.h"

namespace {

using namespace muse::tools;

struct options {
    std::filesystem::path out;
    model_set             set           = MODEL_SET_TINY;
    uint64_t              seed          = 42;
    std::filesystem::path llama_cpp_dir = MUSE_LLAMA_CPP_DIR;
    std::string           only;
};

// Usage errors are reported like every other error: a message and exit code 1.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void usage_print(FILE * out) {
    fprintf(out,
            "usage: muse-make-test-models --out DIR [--size tiny|bench] [--seed N] [--llama-cpp DIR] [--only NAME]\n"
            "\n"
            "Writes random-weight GGUF models with real architectures, tokenizers and chat templates.\n"
            "  --out DIR        directory to write to (created if missing)\n"
            "  --size SET       tiny: small models for tests (default); bench: Qwen3 0.6B/1.7B shapes in Q8_0/Q4_0\n"
            "  --seed N         weights seed (default 42); the same seed writes byte-identical files\n"
            "  --llama-cpp DIR  llama.cpp source tree with models/ggml-vocab-*.gguf and models/templates/\n"
            "                   (default %s)\n"
            "  --only NAME      write just this model, e.g. qwen3-tiny or qwen3-tiny.gguf\n",
            MUSE_LLAMA_CPP_DIR);
}

options options_parse(int argc, char ** argv) {
    options opt;
    bool    has_out = false;
    for (int i = 1; i < argc; i++) {
        const std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            usage_print(stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            throw usage_error("unknown option or missing value: " + arg);
        }
        const std::string value = argv[++i];
        if (arg == "--out") {
            opt.out = value;
            has_out = true;
        } else if (arg == "--size") {
            if (value == "tiny") {
                opt.set = MODEL_SET_TINY;
            } else if (value == "bench") {
                opt.set = MODEL_SET_BENCH;
            } else {
                throw usage_error("--size must be tiny or bench, not '" + value + "'");
            }
        } else if (arg == "--seed") {
            char * end = nullptr;
            opt.seed   = strtoull(value.c_str(), &end, 10);
            if (value.empty() || value[0] == '-' || *end != '\0') {
                throw usage_error("--seed needs a non-negative integer, not '" + value + "'");
            }
        } else if (arg == "--llama-cpp") {
            opt.llama_cpp_dir = value;
        } else if (arg == "--only") {
            opt.only = value;
        } else {
            throw usage_error("unknown option: " + arg);
        }
    }
    if (!has_out) {
        throw usage_error("--out DIR is required");
    }
    return opt;
}

bool entry_matches(const catalog_entry & entry, const std::string & only) {
    return only.empty() || entry.file == only || entry.file == only + ".gguf";
}

void models_write(const options & opt) {
    const auto entries = catalog_list(opt.set, opt.llama_cpp_dir);

    std::string names;
    bool        any = false;
    for (const auto & entry : entries) {
        names += " " + entry.file;
        any = any || entry_matches(entry, opt.only);
    }
    if (!any) {
        throw usage_error("--only " + opt.only + " matches no model in this set; choose one of:" + names);
    }

    std::error_code ec;
    std::filesystem::create_directories(opt.out, ec);
    if (ec) {
        throw std::runtime_error("cannot create output directory " + opt.out.string() + ": " + ec.message() +
                                 "; pass --out with a writable directory");
    }

    for (const auto & entry : entries) {
        if (!entry_matches(entry, opt.only)) {
            continue;
        }
        const auto started = std::chrono::steady_clock::now();
        model_file file(opt.seed);
        entry.build(file);

        // Big files report each tensor group as they go; small ones just the summary.
        const bool verbose = file.n_bytes() > (uint64_t { 64 } << 20);
        const auto path    = opt.out / entry.file;
        file.write(path, verbose);

        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        fprintf(stderr, "wrote %s (%.1f MiB, %.1f M params, %.1f s)\n", path.c_str(),
                (double)file.n_bytes() / (1024.0 * 1024.0), (double)file.n_params() / 1e6, seconds);
    }
}

}  // namespace

int main(int argc, char ** argv) {
    try {
        models_write(options_parse(argc, argv));
    } catch (const usage_error & e) {
        fprintf(stderr, "muse-make-test-models: %s\n\n", e.what());
        usage_print(stderr);
        return 1;
    } catch (const std::exception & e) {
        fprintf(stderr, "muse-make-test-models: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
