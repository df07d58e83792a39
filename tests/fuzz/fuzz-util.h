#pragma once
// Shared pieces of the libFuzzer targets: the tiny test models, loaded once per fuzzing
// process (llama_backend_init and the log hook are process-wide, so the backend lives as long
// as the process), and a temporary file for the parsers that take a path.
#include "engine/backend.h"
#include "engine/model.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

namespace muse::fuzz {

inline backend & fuzz_backend() {
    static backend be(false);
    return be;
}

// A tiny model from the build's models/tiny (MUSE_TEST_MODELS_DIR), with its projector when
// `mmproj` is given. Loaded on first use and kept: a load per input would be all the fuzzer did.
inline const model & fuzz_model(const std::string & file, const std::string & mmproj = "") {
    struct entry {
        std::string            key;
        std::unique_ptr<model> mdl;
    };
    static entry loaded[4];
    const std::string key = file + "|" + mmproj;
    for (entry & e : loaded) {
        if (e.key == key) return *e.mdl;
    }
    for (entry & e : loaded) {
        if (!e.mdl) {
            model_params p;
            p.path = std::string(MUSE_TEST_MODELS_DIR) + "/" + file;
            if (!mmproj.empty()) p.mmproj_path = std::string(MUSE_TEST_MODELS_DIR) + "/" + mmproj;
            p.n_threads = 1;
            e.mdl       = std::make_unique<model>(fuzz_backend(), p);
            e.key       = key;
            return *e.mdl;
        }
    }
    fprintf(stderr, "fuzz_model: more than 4 models asked for; raise the table size in fuzz-util.h\n");
    abort();
}

// A file that holds the input, in a folder of this process's own, removed at exit.
class fuzz_temp_file {
  public:
    explicit fuzz_temp_file(const std::string & name) {
        const char * tmp = getenv("TMPDIR");
        dir_  = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") / ("muse-fuzz-" + std::to_string(getpid()));
        std::filesystem::create_directories(dir_);
        path_ = dir_ / name;
    }
    ~fuzz_temp_file() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    fuzz_temp_file(const fuzz_temp_file &)             = delete;
    fuzz_temp_file & operator=(const fuzz_temp_file &) = delete;

    const std::filesystem::path & dir() const { return dir_; }
    const std::filesystem::path & path() const { return path_; }

    void write(const uint8_t * data, size_t size) const {
        std::unique_ptr<FILE, int (*)(FILE *)> f(fopen(path_.c_str(), "wb"), fclose);
        if (!f || (size > 0 && fwrite(data, 1, size, f.get()) != size)) {
            fprintf(stderr, "fuzz_temp_file: cannot write %s\n", path_.c_str());
            abort();
        }
    }

  private:
    std::filesystem::path dir_;
    std::filesystem::path path_;
};

}  // namespace muse::fuzz
