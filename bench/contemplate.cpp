// bench/contemplate: N agents on one shared 512-token prompt, 128 tokens each, through muse's
// contemplate mode, side by side with llama-batched-bench -pps -kvu (the same work at the
// kernel's limit: shared prompt computed once, all sequences in one batch) from the same tree,
// and optionally with a running llama-server asked for n=N completions of the same prompt.
//
//   muse-bench-contemplate --batched-bench PATH -m MODEL [--server-url URL] [-t 2] [-r 3] [-p 512] [-n 128]
//                          [--agents 1,2,4,8,16]
#include "engine/backend.h"
#include "engine/error.h"
#include "engine/model.h"
#include "engine/session.h"
#include "bench-util.h"
#include "http-client.h"
#include "reason/modes.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

using namespace muse;
using muse::bench::median;

namespace {

struct options {
    std::string      batched_bench;
    std::string      model_path;
    std::string      server_url;
    int              threads  = 2;
    int              reps     = 3;
    int              n_prompt = 512;
    int              n_gen    = 128;
    std::vector<int> agents   = { 1, 2, 4, 8, 16 };
};

// A user message of about n tokens of ordinary words.
std::string prompt_text(const model & m, int n_tokens) {
    std::string text = "Read the notes and answer the question at the end.\n";
    muse::bench::words_append(m, text, n_tokens - 24, 7);
    return text + "\nQuestion: which word appears most often?";
}

struct muse_run {
    double ttft = 0, wall = 0, tokens = 0;
    int    prompt_tokens = 0;
};

muse_run muse_once(model & m, const options & o, int agents, const std::string & text, uint32_t seed) {
    context_params cp;
    cp.n_ctx     = o.n_prompt + agents * o.n_gen + 256;
    cp.n_batch   = 512;
    cp.n_seq_max = agents + 2;
    cp.n_threads = o.threads;
    session s(m, cp);

    chat_request req;
    req.messages.push_back({ "user", text, {}, "", {}, "", "" });
    reason::reason_params p;
    p.mode                 = reason::REASON_MODE_CONTEMPLATE;
    p.agents               = agents;
    p.aggregate            = reason::AGGREGATE_KIND_VOTE;
    p.max_tokens           = o.n_gen;
    p.sampling.seed        = seed;
    p.sampling.temperature = 0.8f;
    const auto t0 = std::chrono::steady_clock::now();
    const auto r  = reason::reason_run(s, req, {}, p);
    muse_run out;
    out.wall          = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.ttft          = r.ttft_secs;
    out.tokens        = r.reasoning_tokens + r.answer_tokens;
    out.prompt_tokens = r.prompt_tokens;
    return out;
}

struct anchor_row {
    int    pl = 0;
    double t_pp = 0, t = 0, speed = 0;
};

std::vector<anchor_row> batched_bench_run(const options & o, int n_prompt) {
    std::string npl;
    for (int n : o.agents) npl += (npl.empty() ? "" : ",") + std::to_string(n);
    int max_agents = *std::max_element(o.agents.begin(), o.agents.end());
    const std::string cmd = "'" + o.batched_bench + "' -m '" + o.model_path + "' -t " + std::to_string(o.threads) +
                            " -c " + std::to_string(n_prompt + max_agents * o.n_gen + 256) + " -b 512 -ub 512 -fa off" +
                            " -npp " + std::to_string(n_prompt) + " -ntg " + std::to_string(o.n_gen) + " -npl " + npl +
                            " -pps -kvu --output-format jsonl 2>/dev/null";
    std::vector<anchor_row> rows;
    for (const auto & j : muse::bench::jsonl_run(cmd, "pl")) {
        rows.push_back({ j["pl"].get<int>(), j["t_pp"].get<double>(), j["t"].get<double>(), j["speed"].get<double>() });
    }
    return rows;
}

// Wall seconds of one `n`=N chat completion of `text` on llama-server, the prompt computed anew
// (`cache_prompt` off), every completion forced to n_gen tokens.
double server_once(httplib::Client & c, const options & o, int agents, const std::string & text, uint32_t seed) {
    const nlohmann::json body = {
        { "messages",     { { { "role", "user" }, { "content", text } } } },
        { "n",            agents },
        { "max_tokens",   o.n_gen },
        { "ignore_eos",   true },
        { "temperature",  0.8 },
        { "seed",         seed },
        { "cache_prompt", false },
    };
    const auto t0   = std::chrono::steady_clock::now();
    const auto res  = muse::bench::post_json(c, "/v1/chat/completions", body);
    const auto wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // llama-server's usage counts the first choice only.
    const int got = res.contains("usage") ? res["usage"].value("completion_tokens", 0) : 0;
    if ((int) res["choices"].size() != agents || got != o.n_gen) {
        throw runtime_error("llama-server answered " + std::to_string(res["choices"].size()) + " choices of " +
                            std::to_string(got) + " tokens for n=" + std::to_string(agents) + "; expected " +
                            std::to_string(o.n_gen) + " tokens each");
    }
    return wall;
}

}  // namespace

int main(int argc, char ** argv) {
    options  o;
    CLI::App app{ "muse contemplate benchmark: N agents on one shared prompt vs llama-batched-bench -pps" };
    app.add_option("--batched-bench", o.batched_bench, "llama-batched-bench binary")->required();
    app.add_option("-m,--model", o.model_path, "model")->required();
    app.add_option("--server-url", o.server_url, "a llama-server serving the same model (--parallel 16 --kv-unified)");
    app.add_option("-t,--threads", o.threads);
    app.add_option("-r,--reps", o.reps);
    app.add_option("-p,--n-prompt", o.n_prompt);
    app.add_option("-n,--n-gen", o.n_gen);
    app.add_option("--agents", o.agents)->delimiter(',');
    CLI11_PARSE(app, argc, argv);
    try {
        backend      be;
        model_params mp;
        mp.path = o.model_path;
        model m(be, mp);
        const std::string text = prompt_text(m, o.n_prompt);
        // The anchor gets the same prompt length muse's chat template produces.
        const int n_prompt = (int) m.tokenize(text).size() + 12;
        std::vector<std::vector<anchor_row>> anchor_reps;
        for (int r = 0; r < o.reps; ++r) anchor_reps.push_back(batched_bench_run(o, n_prompt));
        std::vector<std::vector<double>> server_walls(o.agents.size());
        if (!o.server_url.empty()) {
            auto cli = muse::bench::client_make(o.server_url, "", 3600);
            for (size_t i = 0; i < o.agents.size(); ++i)
                for (int r = 0; r < o.reps; ++r)
                    server_walls[i].push_back(server_once(cli, o, o.agents[i], text, 1000u + (uint32_t) r));
        }

        const uint64_t kv = m.info().kv_bytes_per_token;
        printf("model %s, %d threads, prompt ~%d tokens shared, %d generated per agent, median of %d\n\n",
               o.model_path.c_str(), o.threads, n_prompt, o.n_gen, o.reps);
        printf("| %3s | %9s | %9s | %11s | %14s | %9s | %14s | %12s | %12s | %11s | %14s |\n", "N", "TTFT s", "TTFT/N=1",
               "muse wall s", "batched-bench s", "ratio", "llama-server s", "muse/server", "muse tok/s", "KV MiB",
               "KV if copied");
        printf("|-----|-----------|-----------|-------------|----------------|-----------|----------------|--------------|"
               "--------------|-------------|----------------|\n");
        double ttft1 = 0;
        for (size_t i = 0; i < o.agents.size(); ++i) {
            const int n = o.agents[i];
            std::vector<double> ttft, wall, toks;
            for (int r = 0; r < o.reps; ++r) {
                const auto run = muse_once(m, o, n, text, 1000u + (uint32_t) r);
                ttft.push_back(run.ttft);
                wall.push_back(run.wall);
                toks.push_back(run.tokens / run.wall);
            }
            std::vector<double> anchor;
            for (const auto & rows : anchor_reps)
                for (const auto & row : rows)
                    if (row.pl == n) anchor.push_back(row.t);
            const double t1 = median(ttft);
            if (n == o.agents.front()) ttft1 = t1;
            const double kv_shared = (double) kv * (n_prompt + n * o.n_gen) / (1 << 20);
            const double kv_copied = (double) kv * n * (n_prompt + o.n_gen) / (1 << 20);
            char server[32] = "-", server_ratio[32] = "-";
            if (!server_walls[i].empty()) {
                snprintf(server, sizeof(server), "%.2f", median(server_walls[i]));
                snprintf(server_ratio, sizeof(server_ratio), "%.3fx", median(wall) / median(server_walls[i]));
            }
            printf("| %3d | %9.2f | %8.2fx | %11.2f | %14.2f | %8.3fx | %14s | %12s | %12.1f | %11.1f | %14.1f |\n", n, t1,
                   t1 / ttft1, median(wall), median(anchor), median(wall) / median(anchor), server, server_ratio,
                   median(toks), kv_shared, kv_copied);
            fflush(stdout);
        }
    } catch (const std::exception & e) {
        fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
