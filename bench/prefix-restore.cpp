// bench/prefix-restore: where the prefix cache's line between restoring and decoding lies.
// For a sequence of N prompt tokens in a KV stream of muse serve's layout (split, 4096 cells
// a sequence), the time to decode the N tokens, to copy the stream to another sequence (what
// a shared beginning costs), to save the cells (llama_state_seq_get_data), to restore them
// from RAM, and to write and read them as a kv file. Median of --reps.
//
//   muse-bench-prefix-restore -m MODEL [-t 2] [--reps 3] [-n 32,128,512,1024] [--dir /tmp]
#include "bench-util.h"
#include "engine/backend.h"
#include "engine/kv-file.h"
#include "engine/model.h"
#include "engine/session.h"
#include "llama.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

using namespace muse;
using muse::bench::median;
using clock_type = std::chrono::steady_clock;

static double secs(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

int main(int argc, char ** argv) {
    std::string      model_path;
    int              threads = 2, reps = 3, n_ctx_seq = 4096;
    std::vector<int> sizes   = { 32, 128, 512, 1024 };
    std::string      dir     = std::filesystem::temp_directory_path().string();
    CLI::App         app{ "muse-bench-prefix-restore: decode a prefix, or restore it" };
    app.add_option("-m,--model", model_path, "GGUF model")->required();
    app.add_option("-t,--threads", threads)->capture_default_str();
    app.add_option("--reps", reps)->capture_default_str();
    app.add_option("-n,--tokens", sizes, "prompt lengths")->delimiter(',')->capture_default_str();
    app.add_option("--ctx-seq", n_ctx_seq, "KV cells a sequence")->capture_default_str();
    app.add_option("--dir", dir, "where the kv files go")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    backend      be;
    model_params mp;
    mp.path = model_path;
    model          mdl(be, mp);
    context_params cp;
    cp.n_seq_max  = 2;
    cp.n_ctx      = 2 * n_ctx_seq;
    cp.n_threads  = threads;
    cp.n_batch    = 2048;
    cp.kv_unified = false;  // muse serve's default
    session s(mdl, cp);

    const int32_t                          n_vocab = llama_vocab_n_tokens(mdl.vocab());
    std::mt19937                           rng(7);
    std::uniform_int_distribution<int32_t> pick(100, n_vocab - 100);
    const std::filesystem::path            file = std::filesystem::path(dir) / "muse-bench-prefix-restore.kv";

    printf("%8s %10s %10s %10s %10s %10s %10s %10s\n", "tokens", "MiB", "decode s", "copy s", "save s", "restore s",
           "write s", "read s");
    for (int n : sizes) {
        std::vector<double> t_decode, t_copy, t_save, t_restore, t_write, t_read;
        double              mib = 0;
        for (int r = 0; r < reps; ++r) {
            std::vector<int32_t> tokens((size_t) n);
            for (auto & t : tokens) t = pick(rng);
            sequence_params sp;
            sp.sampling.temperature = 0;
            sp.max_tokens           = 1;
            sp.keep_cells           = true;
            auto t0 = clock_type::now();
            const seq_handle h = s.sequence_add_tokens(tokens, sp);
            s.prefill(h);
            t_decode.push_back(secs(t0));
            s.sequence_park(h);

            t0 = clock_type::now();
            const seq_handle c = s.sequence_fork_prefix(h, n, sequence_params{}, nullptr);
            s.sequence_append_tokens(c, { tokens.back() });  // the copy happens at the next decode
            s.prefill(c);
            t_copy.push_back(secs(t0));
            s.sequence_release(c);

            t0               = clock_type::now();
            const auto bytes = s.sequence_state_get(h);
            t_save.push_back(secs(t0));
            mib = bytes.size() / double(1 << 20);
            s.sequence_release(h);

            t0 = clock_type::now();
            std::vector<int32_t> held(tokens.begin(), tokens.end());
            const seq_handle     back = s.sequence_state_set(bytes, held);
            t_restore.push_back(secs(t0));
            s.sequence_release(back);

            t0 = clock_type::now();
            kv_file_write(file, 1, { "bench", "", held, bytes.size() }, bytes);
            t_write.push_back(secs(t0));
            t0 = clock_type::now();
            const auto read = kv_file_read(file, 1);
            t_read.push_back(secs(t0));
            if (!read) {
                fprintf(stderr, "the kv file did not read back\n");
                return 1;
            }
        }
        printf("%8d %10.1f %10.3f %10.3f %10.4f %10.4f %10.4f %10.4f\n", n, mib, median(t_decode), median(t_copy),
               median(t_save), median(t_restore), median(t_write), median(t_read));
    }
    std::error_code ec;
    std::filesystem::remove(file, ec);
    return 0;
}
