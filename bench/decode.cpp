// bench/decode: muse's prefill and decode speed side by side with llama-bench built from the
// same pinned llama.cpp, same model, same threads, same depth. Prints tok/s for both, the
// ratio, and decode against the memory-bandwidth roofline.
//
//   muse-bench-decode --llama-bench PATH -m MODEL [-m MODEL...] [-t 2] [-r 5] [-p 512] [-n 128] [-d 0,512]
#include "engine/backend.h"
#include "engine/error.h"
#include "engine/model.h"
#include "engine/session.h"
#include "bench-util.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

using namespace muse;
using muse::bench::median;
using clock_type = std::chrono::steady_clock;

namespace {

struct bench_options {
    std::string              llama_bench;
    std::vector<std::string> models;
    int                      threads = 2;
    int                      reps    = 5;
    int                      n_prompt = 512;
    int                      n_gen    = 128;
    std::vector<int>         depths   = { 0, 512 };
};

std::vector<int32_t> random_tokens(int n, int32_t n_vocab, uint32_t seed) {
    std::mt19937                           rng(seed);
    std::uniform_int_distribution<int32_t> dist(100, n_vocab - 100);  // skip special tokens at the ends
    std::vector<int32_t>                   out((size_t) n);
    for (auto & t : out) t = dist(rng);
    return out;
}

double secs(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

// A single-sequence session sized for the test, as llama-bench sizes its context.
std::unique_ptr<session> session_make(model & m, int threads, int n_ctx) {
    context_params cp;
    cp.n_ctx     = n_ctx;
    cp.n_batch   = 512;
    cp.n_seq_max = 1;
    cp.n_threads = threads;
    return std::make_unique<session>(m, cp);
}

// One prompt-processing measurement: `depth` tokens already in the KV cache, then n tokens.
double muse_pp_once(model & m, int threads, int depth, int n, uint32_t seed) {
    auto            ses = session_make(m, threads, depth + n + 16);
    session &       s   = *ses;
    sequence_params sp;
    sp.sampling.temperature = 0;
    // Like llama-bench, warm the fresh context up with one untimed run of the same size.
    {
        auto w = s.sequence_add_tokens(random_tokens(n, m.info().n_vocab, seed + 2), sp);
        s.prefill(w);
        s.sequence_release(w);
    }
    const int32_t n_vocab = m.info().n_vocab;
    seq_handle h;
    if (depth > 0) {
        h = s.sequence_add_tokens(random_tokens(depth, n_vocab, seed), sp);
        s.prefill(h);
        s.sequence_append_tokens(h, random_tokens(n, n_vocab, seed + 1));
    } else {
        h = s.sequence_add_tokens(random_tokens(n, n_vocab, seed + 1), sp);
    }
    const auto t0 = clock_type::now();
    s.prefill(h);
    return n / secs(t0);
}

// One generation measurement: `depth` tokens in the cache (at least 1), then n sampled+decoded tokens.
double muse_tg_once(model & m, int threads, int depth, int n, uint32_t seed) {
    auto            ses = session_make(m, threads, depth + n + 16);
    session &       s   = *ses;
    sequence_params sp;
    sp.sampling.temperature = 0;
    sp.max_tokens           = n + 1;
    {
        auto w = s.sequence_add_tokens(random_tokens(1, m.info().n_vocab, seed + 2), sp);
        s.prefill(w);
        s.step();  // one sample + decode, as llama-bench's warm-up generates a token
        s.sequence_release(w);
    }
    auto h = s.sequence_add_tokens(random_tokens(std::max(depth, 1), m.info().n_vocab, seed), sp);
    s.prefill(h);
    const auto t0 = clock_type::now();
    for (int i = 0; i < n; ++i) s.step();  // each step: sample one token, decode it
    return n / secs(t0);
}

struct llama_bench_row {
    int                 n_prompt = 0, n_gen = 0, n_depth = 0;
    std::vector<double> samples;
};

std::vector<llama_bench_row> llama_bench_run(const bench_options & o, const std::string & model) {
    std::string depths;
    for (int d : o.depths) depths += (depths.empty() ? "" : ",") + std::to_string(d);
    const std::string cmd = "'" + o.llama_bench + "' -m '" + model + "' -t " + std::to_string(o.threads) +
                            " -p " + std::to_string(o.n_prompt) + " -n " + std::to_string(o.n_gen) + " -d " + depths +
                            " -r " + std::to_string(o.reps) + " -fa 0 -ub 512 -b 512 -o jsonl 2>/dev/null";
    std::vector<llama_bench_row> rows;
    for (const auto & j : muse::bench::jsonl_run(cmd, "avg_ts")) {
        llama_bench_row r;
        r.n_prompt = j.value("n_prompt", 0);
        r.n_gen    = j.value("n_gen", 0);
        r.n_depth  = j.value("n_depth", 0);
        for (const auto & v : j["samples_ts"]) r.samples.push_back(v.get<double>());
        rows.push_back(r);
    }
    return rows;
}

// Sustained read bandwidth with `threads` threads over a buffer much larger than the caches.
double read_bandwidth_gbs(int threads) {
    const size_t           n = (size_t) 512 << 20;  // 512 MiB
    std::vector<uint64_t>  buf(n / 8, 1);
    std::vector<double>    runs;
    for (int rep = 0; rep < 5; ++rep) {
        std::vector<std::thread> pool;
        std::vector<uint64_t>    sums((size_t) threads, 0);
        const auto t0 = clock_type::now();
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                const size_t per = buf.size() / (size_t) threads;
                uint64_t     acc = 0;
                for (size_t i = per * (size_t) t; i < per * (size_t) (t + 1); ++i) acc += buf[i];
                sums[(size_t) t] = acc;
            });
        }
        for (auto & th : pool) th.join();
        runs.push_back((double) n / secs(t0) / 1e9);
        if (sums[0] == 42) printf(" ");  // keep the reads
    }
    return median(runs);
}

}  // namespace

int main(int argc, char ** argv) {
    bench_options o;
    CLI::App      app{ "muse decode benchmark: muse vs llama-bench from the same llama.cpp" };
    app.add_option("--llama-bench", o.llama_bench, "llama-bench binary")->required();
    app.add_option("-m,--model", o.models, "model(s)")->required();
    app.add_option("-t,--threads", o.threads);
    app.add_option("-r,--reps", o.reps);
    app.add_option("-p,--n-prompt", o.n_prompt);
    app.add_option("-n,--n-gen", o.n_gen);
    app.add_option("-d,--depths", o.depths)->delimiter(',');
    CLI11_PARSE(app, argc, argv);

    try {
        backend be;
        const double bw = read_bandwidth_gbs(o.threads);
        printf("memory read bandwidth (%d threads): %.1f GB/s\n\n", o.threads, bw);
        printf("| %-26s | %-12s | %12s | %12s | %6s | %9s | %8s |\n", "model", "test", "llama-bench", "muse",
               "ratio", "roofline", "muse/roof");
        printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(28, '-').c_str(), std::string(14, '-').c_str(),
               std::string(14, '-').c_str(), std::string(14, '-').c_str(), std::string(8, '-').c_str(),
               std::string(11, '-').c_str(), std::string(10, '-').c_str());
        for (const auto & path : o.models) {
            const auto lb = llama_bench_run(o, path);
            model_params mp;
            mp.path = path;
            model m(be, mp);
            std::string name = path.substr(path.find_last_of('/') + 1);
            for (const auto & row : lb) {
                const bool          is_pp = row.n_prompt > 0;
                std::vector<double> ours;
                (is_pp ? muse_pp_once : muse_tg_once)(m, o.threads, row.n_depth, is_pp ? row.n_prompt : row.n_gen, 99);  // warm-up
                for (int r = 0; r < o.reps; ++r) {
                    ours.push_back(is_pp ? muse_pp_once(m, o.threads, row.n_depth, row.n_prompt, 1000 + r)
                                         : muse_tg_once(m, o.threads, row.n_depth, row.n_gen, 1000 + r));
                }
                const double theirs = median(row.samples), mine = median(ours);
                char test[32];
                snprintf(test, sizeof(test), "%s%d @ d%d", is_pp ? "pp" : "tg", is_pp ? row.n_prompt : row.n_gen, row.n_depth);
                if (is_pp) {
                    printf("| %-26s | %-12s | %12.2f | %12.2f | %5.3fx | %9s | %8s |\n", name.c_str(), test, theirs, mine,
                           mine / theirs, "-", "-");
                } else {
                    // Each generated token reads every weight once, plus the KV cache so far.
                    const double bytes = (double) m.info().size_bytes + (double) m.info().kv_bytes_per_token * row.n_depth;
                    const double roof       = bw * 1e9 / bytes;
                    printf("| %-26s | %-12s | %12.2f | %12.2f | %5.3fx | %9.2f | %7.1f%% |\n", name.c_str(), test, theirs,
                           mine, mine / theirs, roof, 100.0 * mine / roof);
                }
                fflush(stdout);
            }
        }
    } catch (const std::exception & e) {
        fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
