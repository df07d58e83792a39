// bench/chat's load generator: U users, each a T-turn conversation streamed over POST
// /v1/chat/completions against any OpenAI-style server (muse serve, llama-server). Every user
// shares one ~S-token system prompt; each turn appends a ~N-token user message of its own and,
// after the reply, the assistant's reply as returned, as a chat client does; answers are exactly
// G tokens (`ignore_eos`). Users start staggered and think between turns, so that turns of
// different conversations interleave. Texts are sized with the model's own tokenizer, so every
// server gets the same bytes for the same user and turn.
//
//   muse-bench-chat-load --url URL -m MODEL [--label NAME] [--users 16] [--turns 6]
//                        [--system-tokens 600] [--user-tokens 60] [--gen-tokens 64] [--concurrency 16]
//                        [--api-key KEY | --api-keys FILE] [--metrics-key KEY] [--kv-cells N] [--server-pid PID]
//       one run: a JSON line on stdout (per request too), a summary on stderr
//   muse-bench-chat-load --table FILE
//       per label and per turn, the runs in FILE (JSON lines) pooled, with ratios to the best
//       llama-server* label
#include "bench-util.h"
#include "engine/backend.h"
#include "engine/error.h"
#include "engine/model.h"
#include "http-client.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <semaphore>
#include <sstream>
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
    std::string api_keys;  // a file, one key a line: user u takes line u (a user of its own in muse)
    std::string metrics_key;  // for GET /metrics (muse: an admin's); default: the first user's
    std::string table;
    int         users         = 16;
    int         turns         = 6;
    int         system_tokens = 600;
    int         user_tokens   = 60;
    int         gen_tokens    = 64;
    int         concurrency   = 16;
    int         stagger_ms    = 500;   // user u starts u x this after the first
    int         think_ms      = 1000;  // between a reply and the next turn: 0.5x-1.5x this, fixed per user and turn
    int         timeout_s     = 900;
    int64_t     kv_cells      = -1;    // the server's KV cells (from its log): MiB with the model's K and V per token
    int         server_pid    = 0;     // its peak RSS goes in the JSON line
};

// What one streamed request measured.
struct request_stats {
    int         user = 0, turn = 0;
    double      start = 0;  // seconds after the run began
    double      ttft  = 0;  // seconds from sending to the first content or reasoning chunk
    double      total = 0;  // ... to the end of the stream
    int         prompt_tokens = 0, completion_tokens = 0, chunks = 0, reasoning_chunks = 0;
    int         cached_tokens  = -1;  // usage.prompt_tokens_details.cached_tokens, when sent
    int         prompt_decoded = -1;  // prompt tokens the server decoded: timings.prompt_n, else prompt - cached
    int         new_tokens     = 0;   // prompt tokens that the previous request's prompt and answer did not hold
    int         past_tokens    = 0;   // prompt tokens past the previous request's prompt (new + the answer sent back)
    std::string content;
};

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// Text of `n_tokens` tokens by the model's tokenizer, opening with `head` (which makes no two
// texts share more than their first words) and ordinary words after it.
std::string text_make(const model & m, const std::string & head, int n_tokens, uint32_t seed) {
    std::string text = head;
    muse::bench::words_append(m, text, n_tokens, seed);
    return text;
}

std::string system_text(const model & m, int n_tokens) {
    return text_make(m, "You are the assistant of a team; every member talks to you in a conversation of their own. Notes:\n",
                     n_tokens, 7u);
}

std::string user_text(const model & m, int u, int t, int n_tokens) {
    return text_make(m, "User " + std::to_string(u) + ", turn " + std::to_string(t + 1) + ": about these notes.\n",
                     n_tokens, 100000u + 1000u * (uint32_t) u + (uint32_t) t);
}

nlohmann::json request_body(const options & o, const nlohmann::json & messages) {
    return {
        { "model",          "bench" },
        { "messages",       messages },
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
    const auto    t0 = clock_type::now();
    muse::bench::post_stream(c, "/v1/chat/completions", body, [&](const nlohmann::json & ev) {
        if (ev.contains("usage") && ev["usage"].is_object()) {
            const auto & u       = ev["usage"];
            st.prompt_tokens     = u.value("prompt_tokens", 0);
            st.completion_tokens = u.value("completion_tokens", 0);
            if (u.contains("prompt_tokens_details") && u["prompt_tokens_details"].is_object() &&
                u["prompt_tokens_details"].contains("cached_tokens"))
                st.cached_tokens = u["prompt_tokens_details"]["cached_tokens"].get<int>();
        }
        // llama-server's final chunk: timings.prompt_n counts the prompt tokens it processed.
        if (ev.contains("timings") && ev["timings"].is_object() && ev["timings"].contains("prompt_n"))
            st.prompt_decoded = ev["timings"]["prompt_n"].get<int>();
        if (!ev.contains("choices")) return;
        for (const auto & ch : ev["choices"]) {
            if (!ch.contains("delta")) continue;
            const auto & d     = ch["delta"];
            // nlohmann's empty() is false for every string, "" included: compare the text itself.
            const auto   texty = [&](const char * k) {
                return d.contains(k) && d[k].is_string() && !d[k].get_ref<const std::string &>().empty();
            };
            const bool content = texty("content"), reasoning = texty("reasoning_content");
            if (!content && !reasoning) continue;
            if (st.chunks++ == 0) st.ttft = seconds_since(t0);
            if (content) st.content += d["content"].get<std::string>();
            if (reasoning) st.reasoning_chunks++;
        }
    });
    st.total = seconds_since(t0);
    if (st.prompt_decoded < 0 && st.cached_tokens >= 0) st.prompt_decoded = st.prompt_tokens - st.cached_tokens;
    return st;
}

struct run_result {
    std::vector<request_stats> requests;  // user-major: user u's turn t at u * turns + t
    double                     wall   = 0;
    double                     load_before = 0, load_after = 0;  // the machine's 1-minute load average
    int                        errors = 0;
    std::string                first_error;
};

// The 1-minute load average: other work on the machine shows in the numbers.
double load_average() {
    std::ifstream in("/proc/loadavg");
    double        v = -1;
    in >> v;
    return v;
}

// The think time after user u's turn t: fixed, so that every server sees the same arrivals.
int think_ms_of(const options & o, int u, int t) {
    std::mt19937 rng(977u * (uint32_t) u + (uint32_t) t);
    return (int) (o.think_ms * (0.5 + (double) (rng() % 1000) / 1000.0));
}

run_result load_run(const options & o, const std::vector<std::string> & keys, const std::string & system,
                    const std::vector<std::vector<std::string>> & user_msgs) {
    run_result out;
    out.requests.resize((size_t) o.users * o.turns);
    std::vector<std::string>  errors(o.users);
    std::counting_semaphore<> lanes(o.concurrency);
    std::vector<std::thread>  threads;
    out.load_before = load_average();
    const auto t0   = clock_type::now();
    for (int u = 0; u < o.users; ++u) {
        threads.emplace_back([&, u] {
            try {
                std::this_thread::sleep_until(t0 + std::chrono::milliseconds((int64_t) u * o.stagger_ms));
                auto cli = muse::bench::client_make(o.url, keys.empty() ? o.api_key : keys[u % keys.size()], o.timeout_s);
                nlohmann::json messages = nlohmann::json::array();
                messages.push_back({ { "role", "system" }, { "content", system } });
                const request_stats * prev = nullptr;
                for (int t = 0; t < o.turns; ++t) {
                    messages.push_back({ { "role", "user" }, { "content", user_msgs[u][t] } });
                    lanes.acquire();
                    const double start = seconds_since(t0);
                    request_stats st;
                    try {
                        st = request_run(cli, request_body(o, messages));
                    } catch (...) {
                        lanes.release();
                        throw;
                    }
                    lanes.release();
                    st.user        = u;
                    st.turn        = t + 1;
                    st.start       = start;
                    st.new_tokens  = prev ? st.prompt_tokens - prev->prompt_tokens - prev->completion_tokens : st.prompt_tokens;
                    st.past_tokens = prev ? st.prompt_tokens - prev->prompt_tokens : st.prompt_tokens;
                    auto & slot    = out.requests[(size_t) u * o.turns + t];
                    slot           = std::move(st);
                    prev           = &slot;
                    messages.push_back({ { "role", "assistant" }, { "content", slot.content } });
                    if (t + 1 < o.turns) std::this_thread::sleep_for(std::chrono::milliseconds(think_ms_of(o, u, t)));
                }
            } catch (const std::exception & e) {
                errors[u] = e.what();
            }
        });
    }
    for (auto & t : threads) t.join();
    out.wall       = seconds_since(t0);
    out.load_after = load_average();
    for (const auto & e : errors) {
        if (e.empty()) continue;
        if (out.errors++ == 0) out.first_error = e;
    }
    return out;
}

// GET /metrics' muse_prefix_cache_* values (muse); an empty object from servers without them.
nlohmann::json cache_metrics_get(const options & o, const std::vector<std::string> & keys) {
    nlohmann::json out = nlohmann::json::object();
    try {
        const auto key = !o.metrics_key.empty() ? o.metrics_key : keys.empty() ? o.api_key : keys[0];
        auto       cli = muse::bench::client_make(o.url, key, 30);
        const auto res = cli.Get("/metrics");
        if (!res || res->status != 200) return out;
        std::istringstream in(res->body);
        std::string        line;
        const std::string  prefix = "muse_prefix_cache_";
        while (std::getline(in, line)) {
            if (line.rfind(prefix, 0) != 0) continue;
            const size_t sp = line.find(' ');
            if (sp == std::string::npos) continue;
            out[line.substr(prefix.size(), sp - prefix.size())] = std::stod(line.substr(sp + 1));
        }
    } catch (const std::exception &) {
        // No metrics: the table shows none.
    }
    return out;
}

// VmHWM of /proc/PID/status in MiB, or -1.
double peak_rss_mib(int pid) {
    if (pid <= 0) return -1;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string   line;
    while (std::getline(in, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    }
    return -1;
}

nlohmann::json run_summary(const options & o, const run_result & run, double kv_mib, const nlohmann::json & cache,
                           double rss_mib) {
    nlohmann::json reqs = nlohmann::json::array();
    double         tokens = 0;
    int            short_answers = 0, reasoning = 0;
    for (const auto & r : run.requests) {
        if (r.chunks == 0) continue;
        tokens += r.completion_tokens;
        if (r.completion_tokens != o.gen_tokens) ++short_answers;
        if (r.reasoning_chunks > 0) ++reasoning;
        reqs.push_back({
            { "user",       r.user },
            { "turn",       r.turn },
            { "start_s",    r.start },
            { "ttft_s",     r.ttft },
            { "total_s",    r.total },
            { "prompt",     r.prompt_tokens },
            { "cached",     r.cached_tokens },
            { "decoded",    r.prompt_decoded },
            { "new",        r.new_tokens },
            { "past",       r.past_tokens },
            { "completion", r.completion_tokens },
        });
    }
    return {
        { "server",         o.label },
        { "users",          o.users },
        { "turns",          o.turns },
        { "system_tokens",  o.system_tokens },
        { "user_tokens",    o.user_tokens },
        { "gen_tokens",     o.gen_tokens },
        { "concurrency",    o.concurrency },
        { "requests",       (int) reqs.size() },
        { "tokens",         tokens },
        { "wall_s",         run.wall },
        { "tok_s",          tokens / run.wall },
        { "kv_mib",         kv_mib },
        { "rss_mib",        rss_mib },
        { "load_before",    run.load_before },
        { "load_after",     run.load_after },
        { "short_answers",  short_answers },
        { "reasoning_answers", reasoning },  // answers that came (partly) as reasoning_content
        { "errors",         run.errors },
        { "prefix_cache",   cache },
        { "per_request",    reqs },
    };
}

// One label's requests, all its runs pooled.
struct label_runs {
    std::string                 label;
    std::vector<nlohmann::json> runs;
    std::vector<nlohmann::json> requests;
};

struct turn_stats {
    double ttft_p50 = 0, ttft_p99 = 0, decoded = -1, fresh = 0, past = 0;
    int    n        = 0;
};

// Turn `turn` (0: every turn from 2 on) of a label's requests.
turn_stats turn_of(const label_runs & l, int turn) {
    std::vector<double> ttft;
    double              decoded = 0, fresh = 0, past = 0;
    int                 n_decoded = 0;
    for (const auto & r : l.requests) {
        const int t = r["turn"].get<int>();
        if (turn > 0 ? t != turn : t < 2) continue;
        ttft.push_back(r["ttft_s"].get<double>());
        fresh += r["new"].get<double>();
        past += r["past"].get<double>();
        if (r["decoded"].get<int>() >= 0) {
            decoded += r["decoded"].get<double>();
            ++n_decoded;
        }
    }
    turn_stats s;
    s.n = (int) ttft.size();
    if (s.n == 0) return s;
    s.ttft_p50 = percentile(ttft, 0.50);
    s.ttft_p99 = percentile(ttft, 0.99);
    s.fresh    = fresh / s.n;
    s.past     = past / s.n;
    if (n_decoded == s.n) s.decoded = decoded / s.n;
    return s;
}

bool is_anchor(const std::string & label) { return label.rfind("llama-server", 0) == 0; }

std::string num(double v, const char * fmt) {
    if (v < 0) return "-";
    char buf[64];
    snprintf(buf, sizeof(buf), fmt, v);
    return buf;
}

void table_print(const std::string & path) {
    std::ifstream in(path);
    if (!in) throw input_error("--table " + path + ": cannot read the file");
    std::vector<label_runs> labels;
    std::string             line;
    while (std::getline(in, line)) {
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.contains("server") || !j.contains("per_request")) continue;
        const std::string label = j["server"];
        size_t            i     = 0;
        while (i < labels.size() && labels[i].label != label) ++i;
        if (i == labels.size()) labels.push_back({ label, {}, {} });
        for (const auto & r : j["per_request"]) labels[i].requests.push_back(r);
        j.erase("per_request");
        labels[i].runs.push_back(std::move(j));
    }
    if (labels.empty()) throw input_error("--table " + path + ": no runs in the file");
    const auto med = [&](const label_runs & l, const char * key) {
        std::vector<double> v;
        for (const auto & j : l.runs) v.push_back(j[key].get<double>());
        return median(v);
    };
    // The best anchor: the llama-server configuration with the lowest p50 TTFT over turns >= 2.
    int best = -1;
    for (size_t i = 0; i < labels.size(); ++i) {
        if (!is_anchor(labels[i].label)) continue;
        if (best < 0 || turn_of(labels[i], 0).ttft_p50 < turn_of(labels[best], 0).ttft_p50) best = (int) i;
    }
    std::vector<size_t> others;
    for (size_t i = 0; i < labels.size(); ++i)
        if (!is_anchor(labels[i].label)) others.push_back(i);

    const auto & first = labels[0].runs[0];
    const int    turns = first["turns"].get<int>();
    printf("%d users x %d turns, system prompt ~%d tokens, user messages ~%d, answers %d, at most %d in flight; "
           "%zu run(s) per server, requests pooled%s%s\n\n",
           first["users"].get<int>(), turns, first["system_tokens"].get<int>(), first["user_tokens"].get<int>(),
           first["gen_tokens"].get<int>(), first["concurrency"].get<int>(), labels[0].runs.size(),
           best >= 0 ? "; best llama-server: " : "", best >= 0 ? labels[best].label.c_str() : "");

    printf("| metric |");
    for (const auto & l : labels) printf(" %s |", l.label.c_str());
    if (best >= 0)
        for (size_t i : others) printf(" %s / %s |", labels[i].label.c_str(), labels[best].label.c_str());
    printf("\n|---|");
    for (size_t i = 0; i < labels.size() + (best >= 0 ? others.size() : 0); ++i) printf("---|");
    printf("\n");
    const auto row = [&](const char * name, const char * fmt, const std::function<double(const label_runs &)> & f) {
        printf("| %s |", name);
        for (const auto & l : labels) printf(" %s |", num(f(l), fmt).c_str());
        if (best >= 0) {
            for (size_t i : others) {
                const double a = f(labels[i]), b = f(labels[best]);
                printf(" %s |", a >= 0 && b > 0 ? num(a / b, "%.3fx").c_str() : "-");
            }
        }
        printf("\n");
    };
    row("p50 TTFT s, turns >= 2", "%.2f", [](const label_runs & l) { return turn_of(l, 0).ttft_p50; });
    row("p99 TTFT s, turns >= 2", "%.2f", [](const label_runs & l) { return turn_of(l, 0).ttft_p99; });
    row("p50 TTFT s, turn 1", "%.2f", [](const label_runs & l) { return turn_of(l, 1).ttft_p50; });
    row("prompt tokens decoded per turn >= 2 (mean)", "%.1f", [](const label_runs & l) { return turn_of(l, 0).decoded; });
    row("new prompt tokens per turn >= 2 (mean)", "%.1f", [](const label_runs & l) { return turn_of(l, 0).fresh; });
    row("prompt tokens past the previous prompt, turns >= 2 (mean)", "%.1f",
        [](const label_runs & l) { return turn_of(l, 0).past; });
    row("prompt tokens decoded, turn 1 (mean)", "%.1f", [](const label_runs & l) { return turn_of(l, 1).decoded; });
    row("aggregate tok/s", "%.1f", [&](const label_runs & l) { return med(l, "tok_s"); });
    row("wall s", "%.1f", [&](const label_runs & l) { return med(l, "wall_s"); });
    row("KV MiB", "%.1f", [&](const label_runs & l) { return med(l, "kv_mib"); });
    row("peak RSS MiB", "%.0f", [&](const label_runs & l) { return med(l, "rss_mib"); });
    row("load average before the run", "%.2f", [&](const label_runs & l) { return med(l, "load_before"); });
    row("load average after the run", "%.2f", [&](const label_runs & l) { return med(l, "load_after"); });

    printf("\n| server | turn | p50 TTFT s | p99 TTFT s | prompt tokens decoded (mean) | new prompt tokens (mean) | "
           "decoded / new | past the previous prompt (mean) |%s\n|---|---|---|---|---|---|---|---|%s\n",
           best >= 0 ? " p50 TTFT / best llama-server's |" : "", best >= 0 ? "---|" : "");
    for (const auto & l : labels) {
        for (int t = 1; t <= turns; ++t) {
            const auto s = turn_of(l, t);
            printf("| %s | %d | %.2f | %.2f | %s | %.1f | %s | %.1f |", l.label.c_str(), t, s.ttft_p50, s.ttft_p99,
                   num(s.decoded, "%.1f").c_str(), s.fresh,
                   s.decoded >= 0 && s.fresh > 0 ? num(s.decoded / s.fresh, "%.3f").c_str() : "-", s.past);
            if (best >= 0) printf(" %.3fx |", s.ttft_p50 / turn_of(labels[best], t).ttft_p50);
            printf("\n");
        }
    }

    printf("\n");
    for (size_t i : others) {
        const auto & l  = labels[i];
        const auto   s  = turn_of(l, 0);
        const double t2 = turn_of(l, 2).ttft_p50, tn = turn_of(l, turns).ttft_p50;
        if (best >= 0) {
            const double r = s.ttft_p50 / turn_of(labels[best], 0).ttft_p50;
            printf("%s: p50 TTFT over turns >= 2 is %.3fx %s's (target <= 0.5x: %s)\n", l.label.c_str(), r,
                   labels[best].label.c_str(), r <= 0.5 ? "met" : "not met");
        }
        if (s.decoded >= 0 && s.fresh > 0) {
            const double r = s.decoded / s.fresh;
            printf("%s: prompt tokens decoded per turn >= 2 are %.3fx the new ones (target within 10%%: %s), "
                   "%.3fx those past the previous prompt\n",
                   l.label.c_str(), r, r >= 0.9 && r <= 1.1 ? "met" : "not met", s.decoded / s.past);
        }
        if (turns >= 3 && t2 > 0) printf("%s: p50 TTFT turn %d / turn 2: %.3f\n", l.label.c_str(), turns, tn / t2);
        for (const auto & j : l.runs) {
            const auto & c = j["prefix_cache"];
            if (c.empty() || !c.contains("hits_total")) continue;
            printf("%s: prefix cache %.0f hits of %.0f lookups (%.0f from RAM, %.0f from disk), %.0f tokens not decoded, "
                   "%.0f evictions, %.0f dropped, %.1f MiB in RAM at the end\n",
                   l.label.c_str(), c.value("hits_total", 0.0), c.value("lookups_total", 0.0), c.value("hits_ram_total", 0.0),
                   c.value("hits_disk_total", 0.0), c.value("hit_tokens_total", 0.0), c.value("evictions_total", 0.0),
                   c.value("dropped_total", 0.0), c.value("bytes_ram", 0.0) / (1 << 20));
        }
    }
}

}  // namespace

int main(int argc, char ** argv) {
    options  o;
    CLI::App app{ "bench/chat load generator: U users' multi-turn streaming conversations against an OpenAI-style server" };
    app.add_option("--url", o.url, "server address, http://HOST:PORT");
    app.add_option("-m,--model", o.model_path, "the served model (its tokenizer sizes the texts)");
    app.add_option("--label", o.label, "the server's name in the output (llama-server*: an anchor in the table)");
    app.add_option("--api-key", o.api_key, "sent as Authorization: Bearer by every user");
    app.add_option("--api-keys", o.api_keys, "a file of keys, one a line: user u sends line u (modulo their number)");
    app.add_option("--metrics-key", o.metrics_key, "the key for GET /metrics (muse: an admin's), after the run");
    app.add_option("--users", o.users);
    app.add_option("--turns", o.turns);
    app.add_option("--system-tokens", o.system_tokens, "the system prompt every user shares");
    app.add_option("--user-tokens", o.user_tokens, "each turn's user message");
    app.add_option("--gen-tokens", o.gen_tokens, "each answer, exactly (ignore_eos)");
    app.add_option("--concurrency", o.concurrency, "users with a request in flight at once, at most");
    app.add_option("--stagger-ms", o.stagger_ms, "user u starts u x this after the first");
    app.add_option("--think-ms", o.think_ms, "the pause between a reply and the next turn (0.5x-1.5x, fixed per turn)");
    app.add_option("--timeout", o.timeout_s, "seconds one request may take");
    app.add_option("--kv-cells", o.kv_cells, "the server's KV cells: their MiB (f16 K and V) go in the output");
    app.add_option("--server-pid", o.server_pid, "the server's process: its peak RSS goes in the output");
    app.add_option("--table", o.table, "print the tables of the runs in this JSON-lines file, and exit");
    std::string system_out;
    app.add_option("--system-out", system_out, "write the shared system prompt to this file, and exit "
                                               "(muse serve --shared-prefix takes it)");
    CLI11_PARSE(app, argc, argv);
    try {
        if (!o.table.empty()) {
            table_print(o.table);
            return 0;
        }
        if (o.model_path.empty()) throw input_error("-m MODEL is needed: its tokenizer sizes the texts");
        if (o.users < 1 || o.turns < 1 || o.concurrency < 1)
            throw input_error("--users, --turns and --concurrency must be 1 or more");
        std::vector<std::string> keys;
        if (!o.api_keys.empty()) {
            std::ifstream kin(o.api_keys);
            if (!kin) throw input_error("--api-keys " + o.api_keys + ": cannot read the file");
            std::string k;
            while (std::getline(kin, k))
                if (!k.empty()) keys.push_back(k);
            if (keys.empty()) throw input_error("--api-keys " + o.api_keys + ": no keys in the file");
        }
        std::string                           system;
        std::vector<std::vector<std::string>> user_msgs(o.users);
        double                                kv_mib = -1;
        {
            backend      be;
            model_params mp;
            mp.path = o.model_path;
            model m(be, mp);
            system = system_text(m, o.system_tokens);
            if (!system_out.empty()) {
                std::ofstream out(system_out, std::ios::binary);
                out << system;
                if (!out) throw input_error("--system-out " + system_out + ": cannot write the file");
                return 0;
            }
            for (int u = 0; u < o.users; ++u)
                for (int t = 0; t < o.turns; ++t) user_msgs[u].push_back(user_text(m, u, t, o.user_tokens));
            if (o.kv_cells > 0) kv_mib = (double) o.kv_cells * (double) m.info().kv_bytes_per_token / (1 << 20);
        }
        // One short request first, so that no server's one-time start-up work lands in the run.
        auto warm = muse::bench::client_make(o.url, keys.empty() ? o.api_key : keys[0], o.timeout_s);
        auto body = request_body(o, { { { "role", "user" }, { "content", "Warm up." } } });
        body["max_tokens"] = 4;
        request_run(warm, body);

        const auto run = load_run(o, keys, system, user_msgs);
        const auto j   = run_summary(o, run, kv_mib, cache_metrics_get(o, keys), peak_rss_mib(o.server_pid));
        printf("%s\n", j.dump().c_str());
        // Per turn on stderr: p50 TTFT and mean decoded / new prompt tokens.
        std::string turns_text;
        for (int t = 1; t <= o.turns; ++t) {
            std::vector<double> ttft;
            double              dec = 0, fresh = 0;
            for (const auto & r : run.requests) {
                if (r.turn != t || r.chunks == 0) continue;
                ttft.push_back(r.ttft);
                dec += r.prompt_decoded;
                fresh += r.new_tokens;
            }
            if (ttft.empty()) continue;
            char buf[128];
            snprintf(buf, sizeof(buf), " | t%d %.2f s %.0f/%.0f", t, percentile(ttft, 0.5), dec / (double) ttft.size(),
                     fresh / (double) ttft.size());
            turns_text += buf;
        }
        fprintf(stderr, "%s: %d users x %d turns, %.1f tok/s, %.1f s; per turn p50 TTFT, decoded/new prompt tokens%s\n",
                o.label.c_str(), o.users, o.turns, j["tok_s"].get<double>(), run.wall, turns_text.c_str());
        if (j["short_answers"].get<int>() > 0)
            fprintf(stderr, "%s: %d answers were not %d tokens long (does the server honour ignore_eos?)\n",
                    o.label.c_str(), j["short_answers"].get<int>(), o.gen_tokens);
        if (run.errors > 0) {
            fprintf(stderr, "%s: %d users failed; the first: %s\n", o.label.c_str(), run.errors, run.first_error.c_str());
            return 1;
        }
    } catch (const std::exception & e) {
        fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
