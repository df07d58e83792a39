// `muse serve`: the OpenAI- and Anthropic-compatible HTTP API (docs/api.md).
#include "cli/commands.h"
#include "cli/agent-tools.h"
#include "cli/options.h"
#include "cli/policy-options.h"
#include "cli/terminal.h"
#include "agent/tool-names.h"
#include "engine/backend.h"
#include "engine/embedder.h"
#include "engine/error.h"
#include "server/api-server.h"
#include "server/audit-retention.h"
#include "server/heap-trim.h"
#include "store/data-dir.h"
#include "store/database.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace muse::cli {

namespace {

struct serve_options {
    model_options model;
    std::string   host        = "127.0.0.1";
    int           port        = 8080;
    std::string   data_dir;
    std::string   model_name;
    int           max_concurrency = 8;
    int           queue           = 64;
    int           max_tokens      = 4096;
    int           max_body_mb     = 32;
    double        timeout         = 600;
    uint64_t      max_image_pixels = 16'777'216;
    double        max_audio_secs   = 600;
    int           max_messages     = 1024;
    bool          no_auth          = false;
    std::string   kv               = "split";
    int           prefill_budget   = 2048;
    bool          no_cache         = false;
    std::vector<std::string> shared_prefix_files;
    int64_t       cache_ram_mb     = 2048;
    int64_t       cache_disk_mb    = 0;
    std::string   tools;           // server-side tools requests may use (off: none)
    std::string   embedding_model; // POST /v1/embeddings runs on it (empty: that route answers 404)
    int           embedding_ctx    = 0;
    int           max_connections  = 256;
    double        header_timeout   = 10;
    agent_options agent;
    policy_options policy;
    std::string   web_dir;          // the web app's files from disk instead of the embedded ones
    bool          no_web           = false;
    double        session_days     = 7;
    bool          cookie_secure    = false;
};

bool host_is_loopback(const std::string & host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

int serve_run(const serve_options & o, const std::atomic<bool> & cancel) {
    if (o.no_auth && !host_is_loopback(o.host)) {
        throw input_error("--no-auth is accepted only on a loopback address (127.0.0.1, ::1, localhost), not " + o.host +
                          "; create keys with `muse keys create --user NAME` to serve other machines");
    }
    if (o.max_concurrency < 1 || o.max_concurrency > 64) throw input_error("--max-concurrency must be between 1 and 64");
    if (o.queue < 0) throw input_error("--queue must be 0 or more");
    if (o.prefill_budget < 0) throw input_error("--prefill-budget must be 0 (a token every step) or more");
    if (!o.web_dir.empty() && !std::filesystem::is_directory(o.web_dir)) {
        throw input_error("--web-dir " + o.web_dir + ": not a directory; give the web app's built files (web/dist after "
                          "`npm run build` in web/)");
    }
    if (!o.web_dir.empty() && o.no_web) throw input_error("--web-dir and --no-web contradict each other: drop one");
    if (!(o.session_days * 86400 >= 1) || o.session_days > 3660) {
        throw input_error("--session-days must be at least one second's worth (1.2e-5) and at most 3660");
    }

    model_options model = o.model;
    model_options_check(model);
    const std::filesystem::path data_dir = o.data_dir.empty() ? store::data_dir_default() : std::filesystem::path(o.data_dir);
    store::database db(data_dir);
    agent_options   agent = o.agent;
    if (!o.tools.empty() && !agent::tool_set_list(o.tools, &agent.tools)) {
        throw input_error("--tools " + o.tools + ": give server-side tool names, comma-separated: python, artifacts, "
                          "spawn_agent, mcp");
    }
    agent_options_resolve(agent);
    agent_tools tools = agent_tools_start(agent);  // before the model loads: a bad --mcp file fails fast

    if (!o.embedding_model.empty()) gguf_file_check(o.embedding_model, "embedding model");  // fail before the long load
    if (!o.policy.guard_model.empty()) gguf_file_check(o.policy.guard_model, "guard model");

    backend be(o.model.verbose);
    // The policy before the model: a bad policy file fails fast. The guard loads with it.
    const policy_runtime policy = policy_runtime_make(o.policy, be, o.model.n_threads);

    auto    mdl = model_load(be, model);
    std::unique_ptr<embedder> embed;
    if (!o.embedding_model.empty()) {
        embedder_params ep;
        ep.path      = o.embedding_model;
        ep.n_ctx     = o.embedding_ctx;
        ep.n_threads = o.model.n_threads;
        progress_bar bar("loading " + o.embedding_model);
        ep.on_progress = [&](float p) {
            bar.update(p);
            return true;
        };
        embed = std::make_unique<embedder>(be, ep);
        bar.done();
        const auto & ei = embed->info();
        fprintf(stderr, "muse serve: embedding model %s, %d dimensions, %s pooling%s, up to %d tokens per input\n",
                ei.name.c_str(), ei.dims, ei.pooling.c_str(),
                ei.pooling_fallback ? " (the file names none)" : "", ei.n_ctx);
    }

    server::server_config cfg;
    cfg.host                     = o.host;
    cfg.port                     = o.port;
    cfg.no_auth                  = o.no_auth;
    cfg.model_id                 = o.model_name.empty() ? std::filesystem::path(model.model_path).stem().string() : o.model_name;
    cfg.sched.max_sequences      = o.max_concurrency;
    cfg.sched.queue_max          = o.queue;
    cfg.sched.cache              = !o.no_cache;
    cfg.sched.cache_params.ram_bytes  = (uint64_t) o.cache_ram_mb << 20;
    cfg.sched.cache_params.disk_bytes = (uint64_t) o.cache_disk_mb << 20;
    cfg.sched.cache_params.disk_dir   = data_dir / "kv-cache";
    cfg.agent.tools.insert(agent.tools.begin(), agent.tools.end());
    cfg.agent.python             = tools.python;
    cfg.agent.mcp_tools          = tools.mcp;
    cfg.agent.web_tools          = tools.web;
    cfg.agent.limits.max_steps   = agent.max_steps;
    cfg.agent.limits.tool_secs   = agent.tool_timeout;
    cfg.agent.subagent_max_tokens = agent.subagent_max_tokens;
    cfg.agent.limits.max_argument_chars = agent.max_argument_chars;
    cfg.agent.limits.wall_secs   = o.timeout;
    cfg.limits.max_tokens        = o.max_tokens;
    cfg.max_connections          = o.max_connections;
    cfg.header_timeout_secs      = o.header_timeout;
    cfg.limits.max_body_bytes    = (size_t) o.max_body_mb << 20;
    cfg.limits.timeout_secs      = o.timeout;
    cfg.limits.max_messages      = o.max_messages;
    cfg.limits.media.max_bytes   = cfg.limits.max_body_bytes;
    cfg.limits.media.max_pixels  = o.max_image_pixels;
    cfg.limits.media.max_audio_secs = o.max_audio_secs;
    cfg.web.enabled              = !o.no_web;
    cfg.web.dir                  = o.web_dir;
    cfg.web.session_secs         = (int64_t) (o.session_days * 86400);
    cfg.web.cookie_secure        = o.cookie_secure;

    // Independent requests decode faster with a KV stream each (docs/benchmarks.md, bench/serve);
    // --kv unified shares prefix cells across a contemplation's agents instead.
    // The operator's shared system prompts: the tokens every conversation that starts with one
    // holds before its first user message (the part two renderings with different user
    // messages share), each kept parked in a slot of its own.
    for (const auto & file : o.shared_prefix_files) {
        const std::string text = file_read(file, "shared system prompt");
        std::vector<int32_t> tokens[2];
        for (int i = 0; i < 2; ++i) {
            chat_request req;
            req.messages.push_back({ "system", text, {}, "", {}, "", "" });
            req.messages.push_back({ "user", i == 0 ? "a" : "b", {}, "", {}, "", "" });
            tokens[i] = mdl->tokenize(chat_format(*mdl, req, mdl->media_marker()).text());
        }
        size_t n = 0;
        while (n < tokens[0].size() && n < tokens[1].size() && tokens[0][n] == tokens[1][n]) n++;
        if (n < (size_t) cfg.sched.cache_params.restore_min_tokens) {
            throw input_error("--shared-prefix " + file + ": the system prompt renders to " + std::to_string(n) +
                              " tokens before the user's message; under " +
                              std::to_string(cfg.sched.cache_params.restore_min_tokens) +
                              " a copy costs more than decoding it — drop the flag");
        }
        tokens[0].resize(n);
        cfg.sched.shared_prefixes.push_back(std::move(tokens[0]));
    }
    if (o.no_cache && !o.shared_prefix_files.empty()) {
        throw input_error("--shared-prefix needs the prefix cache: drop --no-cache");
    }
    const int32_t n_shared = (int32_t) cfg.sched.shared_prefixes.size();
    context_params cp = context_params_make(model, o.max_concurrency + n_shared);
    cp.kv_unified     = o.kv == "unified";
    cp.prefill_budget = o.prefill_budget;
    if (o.model.n_ctx <= 0) {
        const int32_t per_seq = mdl->info().n_ctx_train > 0 ? std::min(mdl->info().n_ctx_train, 4096) : 4096;
        cp.n_ctx              = per_seq * (o.max_concurrency + n_shared);
    }
    session s(*mdl, cp);
    context_size_note(model, s);

    if (o.no_auth) {
        fprintf(stderr, "muse serve: WARNING --no-auth: every request acts as the user 'local'; anyone who can reach %s can use it\n",
                o.host.c_str());
    } else if (db.key_list().empty()) {
        std::string key_id;
        const std::string key = db.key_create("admin", true, &key_id);
        fprintf(stderr, "muse serve: no API keys yet; created an admin key for user 'admin' (%s). It is shown once:\n", key_id.c_str());
        printf("MUSE_API_KEY=%s\n", key.c_str());
        fflush(stdout);
    }

    // Prunes the audit past its retention now and hourly; stops (joined) when serve returns.
    server::audit_retention retention(db);
    server::heap_trim       trim;  // what bursts freed goes back to the system every 10 s
    server::api_server srv(*mdl, s, db, cfg, embed.get(), policy.checker.get());
    const int port = srv.bind();
    fprintf(stderr, "muse serve: safety policy %s%s\n",
            !policy.checker ? "off (--policy off): requests meet no checks" :
            o.policy.policy == "default" ? "default (rules; `muse policy show`)" : o.policy.policy.c_str(),
            policy.guard ? (", guard model " + policy.guard->path()).c_str() : "");
    fprintf(stderr, "muse serve: model %s, %d concurrent sequences of up to %d tokens (%d KV cells, %s), data in %s\n",
            cfg.model_id.c_str(), o.max_concurrency, s.n_ctx_seq(), s.n_ctx(), o.kv.c_str(), data_dir.string().c_str());
    printf("muse serve: listening on http://%s:%d\n", o.host.c_str(), port);
    const std::string web = srv.web_source();
    const std::string host_in_url = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
    if (!o.no_web) {
        printf("muse serve: web app at http://%s:%d/\n", host_in_url.c_str(), port);
        if (!web.empty()) fprintf(stderr, "muse serve: the web app's files are %s\n", web.c_str());
        else fprintf(stderr, "muse serve: the web app was not built into this muse (GET / says how: scripts/setup.sh, then rebuild)\n");
    }
    fflush(stdout);

    std::atomic<bool> listening_ended{ false };
    std::thread       watcher([&] {
        while (!cancel.load() && !listening_ended.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (cancel.load()) {
            fprintf(stderr, "muse serve: stopping\n");
            srv.stop();
        }
    });
    srv.listen();
    listening_ended = true;
    watcher.join();
    if (!cancel.load()) {
        throw runtime_error("the HTTP server stopped unexpectedly (its socket failed)");
    }
    return 0;
}

}  // namespace

void serve_command_add(CLI::App & app, command_runner & runner) {
    auto * cmd  = app.add_subcommand("serve", "serve the OpenAI- and Anthropic-compatible HTTP API (docs/api.md)");
    auto   opts = std::make_shared<serve_options>();
    model_options_add(*cmd, opts->model);
    cmd->add_option("--host", opts->host, "address to listen on")->capture_default_str();
    cmd->add_option("--port", opts->port, "port (0: a free one, printed)")->capture_default_str()->check(CLI::Range(0, 65535));
    cmd->add_option("--data-dir", opts->data_dir, "where the store lives (default $MUSE_DATA_DIR or ~/.local/share/muse)");
    cmd->add_option("--model-name", opts->model_name, "the model id the API shows (default: the file name)");
    cmd->add_option("--max-concurrency", opts->max_concurrency, "sequences decoded together")->capture_default_str();
    cmd->add_option("--queue", opts->queue, "requests that may wait beyond that; one more gets 429")->capture_default_str();
    cmd->add_option("--max-tokens", opts->max_tokens, "most tokens one request may generate")->capture_default_str();
    cmd->add_option("--max-body-mb", opts->max_body_mb, "largest request body")->capture_default_str()->check(CLI::Range(1, 4096));
    cmd->add_option("--timeout", opts->timeout, "seconds one request may run")->capture_default_str();
    cmd->add_option("--max-connections", opts->max_connections,
                    "connections open at once (idle and streaming ones count); one more gets 503 and is closed")
        ->capture_default_str()
        ->check(CLI::Range(1, 65536));
    cmd->add_option("--header-timeout", opts->header_timeout,
                    "seconds a connection has to deliver a request's line and headers (from its accept or its previous "
                    "response); a body gets as long again, then must keep up 16 KiB/s; slower ones get 408 and are closed")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 3600.0));
    cmd->add_option("--max-image-pixels", opts->max_image_pixels, "largest image (pixels)")->capture_default_str();
    cmd->add_option("--max-audio-secs", opts->max_audio_secs, "longest audio clip")->capture_default_str();
    cmd->add_option("--max-messages", opts->max_messages, "most messages in one request")->capture_default_str();
    cmd->add_option("--prefill-budget", opts->prefill_budget,
                    "prompt tokens decoded while running streams wait for their next token (0: they get one every "
                    "step; smoother streams, slower bursts)")
        ->capture_default_str();
    cmd->add_option("--tools", opts->tools,
                    "server-side tools requests may use, comma-separated: python (a bubblewrap sandbox, no network), "
                    "artifacts, spawn_agent, mcp (the servers in --mcp); none unless named");
    cmd->add_option("--embedding-model", opts->embedding_model,
                    "an embedding GGUF (e.g. Qwen3-Embedding, bge) for POST /v1/embeddings; none unless given");
    cmd->add_option("--embedding-ctx", opts->embedding_ctx,
                    "most tokens per embedding input (0: the embedding model's own context, at most 8192)")
        ->capture_default_str()
        ->check(CLI::Range(0, 1 << 20));
    agent_options_add(*cmd, opts->agent);
    policy_options_add(cmd, opts->policy);
    cmd->add_flag("--no-auth", opts->no_auth, "no API keys (loopback addresses only)");
    cmd->add_option("--web-dir", opts->web_dir,
                    "serve the web app's files from this directory (e.g. web/dist) instead of the ones built in");
    cmd->add_flag("--no-web", opts->no_web, "no web app: GET / answers the API's 404");
    cmd->add_option("--session-days", opts->session_days, "how long a browser stays signed in to the web app")
        ->capture_default_str();
    cmd->add_flag("--cookie-secure", opts->cookie_secure,
                  "mark the web app's session cookie Secure (sent over HTTPS only): for a TLS reverse proxy in front");
    cmd->add_flag("--no-cache", opts->no_cache,
                  "decode every request's whole prompt (no prefix cache: conversations' cells are not kept between turns)");
    cmd->add_option("--cache-ram", opts->cache_ram_mb,
                    "MiB of host RAM for cached conversations that left the KV pool (0: none)")
        ->check(CLI::Range((int64_t) 0, (int64_t) 1 << 30))
        ->capture_default_str();
    cmd->add_option("--shared-prefix", opts->shared_prefix_files,
                    "a system prompt (a text file) many users' conversations start with: decoded once and copied "
                    "into each request that starts with it, across users (repeatable; one KV stream each)")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("--cache-disk", opts->cache_disk_mb,
                    "MiB of files under the data dir (kv-cache/) for those that left RAM; kept across restarts (0: none)")
        ->check(CLI::Range((int64_t) 0, (int64_t) 1 << 30))
        ->capture_default_str();
    cmd->add_option("--kv", opts->kv, "split: a KV stream per sequence (--ctx-size is divided among them); "
                                      "unified: one pool where a contemplation's agents share their prompt's cells")
        ->capture_default_str()->check(CLI::IsMember({ "split", "unified" }));
    cmd->callback([opts, &runner]() {
        runner.run = [opts](const std::atomic<bool> & cancel) { return serve_run(*opts, cancel); };
    });
}

}  // namespace muse::cli
