// bench/contemplate: N agents on one shared 512-token prompt, 128 tokens each, through muse's
// contemplate mode, side by side with llama-batched-bench -pps -kvu (the same work at the
// kernel's limit: shared prompt computed once, all sequences in one batch) from the same tree,
// and optionally with a running llama-server asked for n=N completions of the same prompt.
// The three run back to back for each N and repetition, in an order that rotates, so that the
// machine's drift falls on all of them; the ratios are medians of those same-moment ratios.
// muse's own time is its wall time less the time inside llama_decode.
//
//   muse-bench-contemplate --batched-bench PATH -m MODEL [--server-url URL] [-t 2] [-r 3] [-p 512] [-n 128]
//                          [--agents 1,2,4,8,16]
#include "engine/backend.h"
#include "engine/chat-prompt.h"
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
#include <nlohmann/json.hpp>
#include <optional>
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
    double ttft = 0, wall = 0, decode = 0, tokens = 0;
    int    prompt_tokens = 0;
};

// The context both muse and the anchor get: the shared prompt, every agent's tokens, and room.
int ctx_size(const options & o, int n_prompt, int agents) { return n_prompt + agents * o.n_gen + 256; }

muse_run muse_once(model & m, const options & o, int n_prompt, int agents, const std::string & text, uint32_t seed) {
    context_params cp;
    cp.n_ctx     = ctx_size(o, n_prompt, agents);
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
    out.decode        = s.decode_seconds();
    out.ttft          = r.ttft_secs;
    out.tokens        = r.reasoning_tokens + r.answer_tokens;
    out.prompt_tokens = r.prompt_tokens;
    return out;
}

// Seconds of one llama-batched-bench run of N sequences (prompt and generation), its context
// sized as muse's.
double batched_bench_run(const options & o, int n_prompt, int agents) {
    const std::string cmd = "'" + o.batched_bench + "' -m '" + o.model_path + "' -t " + std::to_string(o.threads) +
                            " -c " + std::to_string(ctx_size(o, n_prompt, agents)) + " -b 512 -ub 512 -fa off" +
                            " -npp " + std::to_string(n_prompt) + " -ntg " + std::to_string(o.n_gen) +
                            " -npl " + std::to_string(agents) + " -pps -kvu --output-format jsonl 2>/dev/null";
    const auto rows = muse::bench::jsonl_run(cmd, "pl");
    if (rows.size() != 1) {
        throw runtime_error("llama-batched-bench printed " + std::to_string(rows.size()) + " result rows for -npl " +
                            std::to_string(agents) + ": " + cmd);
    }
    return rows.front()["t"].get<double>();
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
        // The anchor gets the prompt length muse's chat template produces (contemplation thinks).
        chat_request templated;
        templated.messages.push_back({ "user", text, {}, "", {}, "", "" });
        templated.enable_thinking = true;
        const int n_prompt = (int) m.tokenize(chat_format(m, templated, m.media_marker()).text()).size();
        std::optional<httplib::Client> server;
        if (!o.server_url.empty()) server.emplace(muse::bench::client_make(o.server_url, "", 3600));

        struct samples {
            std::vector<double> ttft, wall, decode, toks, anchor, server, vs_anchor, vs_server;
        };
        std::vector<samples> at(o.agents.size());
        for (int r = 0; r < o.reps; ++r) {
            for (size_t i = 0; i < o.agents.size(); ++i) {
                const int      n    = o.agents[i];
                const uint32_t seed = 1000u + (uint32_t) r;
                samples &      x    = at[i];
                muse_run       mr;
                double         anchor = 0, sw = 0;
                const int      first = (int) ((r + i) % 3);
                for (int k = 0; k < 3; ++k) {
                    switch ((first + k) % 3) {
                        case 0: mr = muse_once(m, o, n_prompt, n, text, seed); break;
                        case 1: anchor = batched_bench_run(o, n_prompt, n); break;
                        case 2: if (server) sw = server_once(*server, o, n, text, seed); break;
                    }
                }
                x.ttft.push_back(mr.ttft);
                x.wall.push_back(mr.wall);
                x.decode.push_back(mr.decode);
                x.toks.push_back(mr.tokens / mr.wall);
                x.anchor.push_back(anchor);
                x.vs_anchor.push_back(mr.wall / anchor);
                if (server) {
                    x.server.push_back(sw);
                    x.vs_server.push_back(mr.wall / sw);
                }
                fprintf(stderr, "rep %d N=%d: muse %.2f s (decode %.2f, prompt %d tokens), batched-bench %.2f s%s\n", r + 1,
                        n, mr.wall, mr.decode, mr.prompt_tokens, anchor,
                        server ? (", llama-server " + std::to_string(sw) + " s").c_str() : "");
            }
        }

        const uint64_t kv = m.info().kv_bytes_per_token;
        printf("model %s, %d threads, prompt ~%d tokens shared, %d generated per agent, median of %d\n"
               "ratios: median over repetitions of muse / anchor run back to back (min-max in brackets)\n\n",
               o.model_path.c_str(), o.threads, n_prompt, o.n_gen, o.reps);
        printf("| %3s | %6s | %8s | %9s | %10s | %10s | %9s | %21s | %9s | %21s | %8s | %7s | %7s |\n", "N", "TTFT s",
               "TTFT/N=1", "muse wall", "muse own s", "muse own %", "b-bench s", "muse / b-bench", "server s",
               "muse / server", "muse t/s", "KV MiB", "copied");
        printf("|-----|--------|----------|-----------|------------|------------|-----------|-----------------------|"
               "-----------|-----------------------|----------|---------|---------|\n");
        const auto ratio = [](const std::vector<double> & v) {
            if (v.empty()) return std::string("-");
            char buf[64];
            snprintf(buf, sizeof(buf), "%.3fx [%.2f-%.2f]", median(v), *std::min_element(v.begin(), v.end()),
                     *std::max_element(v.begin(), v.end()));
            return std::string(buf);
        };
        double ttft1 = 0;
        for (size_t i = 0; i < o.agents.size(); ++i) {
            const int       n = o.agents[i];
            const samples & x = at[i];
            std::vector<double> own, own_share;
            for (size_t r = 0; r < x.wall.size(); ++r) {
                own.push_back(x.wall[r] - x.decode[r]);
                own_share.push_back(100.0 * own.back() / x.wall[r]);
            }
            const double t1 = median(x.ttft);
            if (i == 0) ttft1 = t1;
            const double kv_shared = (double) kv * (n_prompt + n * o.n_gen) / (1 << 20);
            const double kv_copied = (double) kv * n * (n_prompt + o.n_gen) / (1 << 20);
            char server_s[32] = "-";
            if (!x.server.empty()) snprintf(server_s, sizeof(server_s), "%.2f", median(x.server));
            printf("| %3d | %6.2f | %7.2fx | %9.2f | %10.2f | %9.1f%% | %9.2f | %21s | %9s | %21s | %8.1f | %7.1f | %7.1f |\n",
                   n, t1, t1 / ttft1, median(x.wall), median(own), median(own_share), median(x.anchor),
                   ratio(x.vs_anchor).c_str(), server_s, ratio(x.vs_server).c_str(), median(x.toks), kv_shared,
                   kv_copied);
            fflush(stdout);
        }
    } catch (const std::exception & e) {
        fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
