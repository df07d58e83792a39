// bench/serve's load generator: N concurrent clients, each streaming POST /v1/chat/completions
// with its own prompt of ~P tokens and exactly G generated tokens (`ignore_eos`), against any
// OpenAI-style server (muse serve, llama-server). Prompts are built from the model's own
// tokenizer and chat template, so every server gets the same bytes for the same client.
//
//   muse-bench-serve-load --url URL -m MODEL [--label NAME] [--clients 16] [--prompt-tokens 256]
//                         [--gen-tokens 128] [--requests-per-client 1] [--api-key KEY]
//       one run: a JSON line on stdout, a summary on stderr
//   muse-bench-serve-load --table FILE
//       the median of the runs in FILE (JSON lines) per label, with ratios to the first label
#include "bench-util.h"
#include "engine/backend.h"
#include "engine/chat-prompt.h"
#include "engine/error.h"
#include "engine/model.h"
#include "http-client.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

using namespace muse;
using muse::bench::median;
using muse::bench::percentile;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
    std::string url = "http://127.0.0.1:8080";
    std::string model_path;
    std::string label = "server";
    std::string api_key;
    std::string table;
    int         clients             = 16;
    int         prompt_tokens       = 256;
    int         gen_tokens          = 128;
    int         requests_per_client = 1;
    int         timeout_s           = 600;
};

// What one streamed request measured.
struct request_stats {
    double              ttft = 0;  // seconds from sending to the first content or reasoning chunk
    std::vector<double> itl;       // seconds between consecutive such chunks
    int                 prompt_tokens = 0, completion_tokens = 0, chunks = 0;
};

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// The user message for client `c`'s request `r`: a numbered prefix (no two prompts share more
// than the template's opening) and ordinary words until the templated prompt holds `n_tokens`.
std::string prompt_text(const model & m, int c, int r, int n_tokens) {
    std::string  text = "Client " + std::to_string(c) + ", request " + std::to_string(r) + ": read the notes.\n";
    chat_request req;
    req.messages.push_back({ "user", text, {}, "", {}, "", "" });
    const int templated = (int) m.tokenize(chat_format(m, req, m.media_marker()).text()).size();
    const int overhead  = templated - (int) m.tokenize(text).size();
    muse::bench::words_append(m, text, n_tokens - overhead, 1000u * (uint32_t) c + (uint32_t) r);
    return text;
}

nlohmann::json request_body(const options & o, const std::string & text) {
    return {
        { "model",          "bench" },
        { "messages",       { { { "role", "user" }, { "content", text } } } },
        { "stream",         true },
        { "stream_options", { { "include_usage", true } } },
        { "max_tokens",     o.gen_tokens },
        { "ignore_eos",     true },
        { "temperature",    0 },
        { "seed",           42 },
    };
}

request_stats request_run(httplib::Client & c, const nlohmann::json & body) {
    request_stats st;
    const auto    t0   = clock_type::now();
    auto          last = t0;
    muse::bench::post_stream(c, "/v1/chat/completions", body, [&](const nlohmann::json & ev) {
        const auto now = clock_type::now();
        if (ev.contains("usage") && ev["usage"].is_object()) {
            st.prompt_tokens     = ev["usage"].value("prompt_tokens", 0);
            st.completion_tokens = ev["usage"].value("completion_tokens", 0);
        }
        if (!ev.contains("choices")) return;
        for (const auto & ch : ev["choices"]) {
            if (!ch.contains("delta")) continue;
            const auto & d     = ch["delta"];
            // nlohmann's empty() is false for every string, "" included: compare the text itself.
            const auto   texty = [&](const char * k) {
                return d.contains(k) && d[k].is_string() && !d[k].get_ref<const std::string &>().empty();
            };
            if (!texty("content") && !texty("reasoning_content")) continue;
            const double since_last = std::chrono::duration<double>(now - last).count();
            if (st.chunks++ == 0) st.ttft = since_last;
            else st.itl.push_back(since_last);
            last = now;
        }
    });
    return st;
}

struct run_result {
    std::vector<request_stats> requests;
    double                     wall = 0;
    int                        errors = 0;
    std::string                first_error;
};

run_result load_run(const options & o, const std::vector<std::vector<std::string>> & prompts) {
    run_result out;
    out.requests.resize((size_t) o.clients * o.requests_per_client);
    std::vector<std::string> errors(o.clients);
    std::vector<std::thread> threads;
    const auto               t0 = clock_type::now();
    for (int c = 0; c < o.clients; ++c) {
        threads.emplace_back([&, c] {
            try {
                auto cli = muse::bench::client_make(o.url, o.api_key, o.timeout_s);
                for (int r = 0; r < o.requests_per_client; ++r)
                    out.requests[(size_t) c * o.requests_per_client + r] = request_run(cli, request_body(o, prompts[c][r]));
            } catch (const std::exception & e) {
                errors[c] = e.what();
            }
        });
    }
    for (auto & t : threads) t.join();
    out.wall = seconds_since(t0);
    for (const auto & e : errors) {
        if (e.empty()) continue;
        if (out.errors++ == 0) out.first_error = e;
    }
    return out;
}

nlohmann::json run_summary(const options & o, const run_result & run) {
    std::vector<double> ttft, itl, prompt;
    double              tokens = 0;
    int                 short_answers = 0;
    for (const auto & r : run.requests) {
        if (r.chunks == 0) continue;
        ttft.push_back(r.ttft);
        itl.insert(itl.end(), r.itl.begin(), r.itl.end());
        prompt.push_back(r.prompt_tokens);
        tokens += r.completion_tokens;
        if (r.completion_tokens != o.gen_tokens) ++short_answers;
    }
    return {
        { "server",        o.label },
        { "clients",       o.clients },
        { "requests",      (int) ttft.size() },
        { "prompt_tokens", median(prompt) },
        { "gen_tokens",    o.gen_tokens },
        { "tokens",        tokens },
        { "wall_s",        run.wall },
        { "tok_s",         tokens / run.wall },
        { "ttft_p50_s",    percentile(ttft, 0.50) },
        { "ttft_p99_s",    percentile(ttft, 0.99) },
        { "itl_p50_ms",    1000 * percentile(itl, 0.50) },
        { "itl_p99_ms",    1000 * percentile(itl, 0.99) },
        // With 16 x 128 gaps, p99 passes over the ~16 pauses a burst of prompts causes: the longest shows them.
        { "itl_max_ms",    1000 * percentile(itl, 1.0) },
        { "short_answers", short_answers },
        { "errors",        run.errors },
        { "ttft_s",        ttft },  // per request, in client order
    };
}

// The median of every run per label, with each later label's ratio to the first.
void table_print(const std::string & path) {
    std::ifstream in(path);
    if (!in) throw input_error("--table " + path + ": cannot read the file");
    std::vector<std::string>                 labels;
    std::vector<std::vector<nlohmann::json>> runs;
    std::string                              line;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.contains("server")) continue;
        const std::string label = j["server"];
        size_t            i     = 0;
        while (i < labels.size() && labels[i] != label) ++i;
        if (i == labels.size()) {
            labels.push_back(label);
            runs.emplace_back();
        }
        runs[i].push_back(j);
    }
    if (labels.empty()) throw input_error("--table " + path + ": no runs in the file");
    const auto med = [&](size_t i, const char * key) {
        std::vector<double> v;
        for (const auto & j : runs[i]) v.push_back(j[key].get<double>());
        return median(v);
    };
    const auto & first = runs[0][0];
    printf("%d clients x %d requests, prompt ~%.0f tokens (server's count), %d generated each; median of %zu runs\n\n",
           first["clients"].get<int>(), first["requests"].get<int>() / first["clients"].get<int>(),
           med(0, "prompt_tokens"), first["gen_tokens"].get<int>(), runs[0].size());
    printf("| metric |");
    for (const auto & l : labels) printf(" %s |", l.c_str());
    for (size_t i = 1; i < labels.size(); ++i) printf(" %s / %s |", labels[i].c_str(), labels[0].c_str());
    printf("\n|---|");
    for (size_t i = 1; i < 2 * labels.size(); ++i) printf("---|");
    printf("\n");
    const char * rows[][3] = {
        { "aggregate tok/s", "tok_s", "%.1f" },      { "p50 TTFT s", "ttft_p50_s", "%.2f" },
        { "p99 TTFT s", "ttft_p99_s", "%.2f" },      { "p50 ITL ms", "itl_p50_ms", "%.1f" },
        { "p99 ITL ms", "itl_p99_ms", "%.1f" },      { "max ITL ms", "itl_max_ms", "%.1f" },
        { "prompt tokens", "prompt_tokens", "%.0f" },
    };
    for (const auto & row : rows) {
        printf("| %s |", row[0]);
        for (size_t i = 0; i < labels.size(); ++i) {
            printf(" ");
            printf(row[2], med(i, row[1]));
            printf(" |");
        }
        for (size_t i = 1; i < labels.size(); ++i) printf(" %.3fx |", med(i, row[1]) / med(0, row[1]));
        printf("\n");
    }
}

}  // namespace

int main(int argc, char ** argv) {
    options  o;
    CLI::App app{ "bench/serve load generator: N concurrent streaming chat clients against an OpenAI-style server" };
    app.add_option("--url", o.url, "server address, http://HOST:PORT");
    app.add_option("-m,--model", o.model_path, "the served model (its tokenizer and template size the prompts)");
    app.add_option("--label", o.label, "the server's name in the output");
    app.add_option("--api-key", o.api_key, "sent as Authorization: Bearer");
    app.add_option("--clients", o.clients);
    app.add_option("--prompt-tokens", o.prompt_tokens);
    app.add_option("--gen-tokens", o.gen_tokens);
    app.add_option("--requests-per-client", o.requests_per_client);
    app.add_option("--timeout", o.timeout_s, "seconds one request may take");
    app.add_option("--table", o.table, "print the median table of the runs in this JSON-lines file, and exit");
    CLI11_PARSE(app, argc, argv);
    try {
        if (!o.table.empty()) {
            table_print(o.table);
            return 0;
        }
        if (o.model_path.empty()) throw input_error("-m MODEL is needed: its tokenizer sizes the prompts");
        std::vector<std::vector<std::string>> prompts(o.clients);
        {
            backend      be;
            model_params mp;
            mp.path = o.model_path;
            model m(be, mp);
            for (int c = 0; c < o.clients; ++c)
                for (int r = 0; r < o.requests_per_client; ++r) prompts[c].push_back(prompt_text(m, c, r, o.prompt_tokens));
        }
        // One short request first, so that no server's one-time start-up work lands in the run.
        auto warm = muse::bench::client_make(o.url, o.api_key, o.timeout_s);
        auto body = request_body(o, "Warm up.");
        body["max_tokens"] = 4;
        request_run(warm, body);

        const auto run = load_run(o, prompts);
        const auto j   = run_summary(o, run);
        printf("%s\n", j.dump().c_str());
        fprintf(stderr, "%s: %d clients, %.1f tok/s, TTFT p50 %.2f s p99 %.2f s, ITL p50 %.1f ms p99 %.1f ms max %.1f ms, %.0f prompt tokens\n",
                o.label.c_str(), o.clients, j["tok_s"].get<double>(), j["ttft_p50_s"].get<double>(),
                j["ttft_p99_s"].get<double>(), j["itl_p50_ms"].get<double>(), j["itl_p99_ms"].get<double>(),
                j["itl_max_ms"].get<double>(),
                j["prompt_tokens"].get<double>());
        if (j["short_answers"].get<int>() > 0)
            fprintf(stderr, "%s: %d answers were not %d tokens long (does the server honour ignore_eos?)\n",
                    o.label.c_str(), j["short_answers"].get<int>(), o.gen_tokens);
        if (run.errors > 0) {
            fprintf(stderr, "%s: %d clients failed; the first: %s\n", o.label.c_str(), run.errors, run.first_error.c_str());
            return 1;
        }
    } catch (const std::exception & e) {
        fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
