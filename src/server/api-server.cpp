#include "server/api-server.h"

#include "engine/model.h"
#include "server/connection-guard.h"
#include "server/data-routes.h"
#include "server/session-routes.h"
#include "server/system-json.h"
#include "server/web-assets.h"
#include "server/wire-util.h"
#include "reason/modes.h"

#include <cstdio>

namespace muse::server {

using json = nlohmann::json;

namespace {

std::string key_of(const httplib::Request & req) {
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0) return auth.substr(7);
    return req.get_header_value("x-api-key");
}

wire_format wire_of_path(const std::string & path) {
    return path.rfind("/v1/messages", 0) == 0 ? WIRE_FORMAT_ANTHROPIC : WIRE_FORMAT_OPENAI;
}

}  // namespace

static json error_json(const http_error & e, wire_format wire) {
    if (wire == WIRE_FORMAT_ANTHROPIC) {
        return { { "type", "error" }, { "error", { { "type", anthropic_error_type(e.status) }, { "message", e.what() } } } };
    }
    return { { "error", { { "message", e.what() },
                          { "type", openai_error_type(e.status) },
                          { "param", e.param.empty() ? json(nullptr) : json(e.param) },
                          { "code", e.code.empty() ? json(nullptr) : json(e.code) } } } };
}

std::string error_body(const http_error & e, wire_format wire) {
    return error_json(e, wire).dump(-1, ' ', false, json::error_handler_t::replace);
}

void stream_error_end(httplib::DataSink & sink, const http_error & e, wire_format wire) {
    sse_write(sink, error_json(e, wire), wire == WIRE_FORMAT_ANTHROPIC ? "error" : nullptr);
    sink.done();
}

// A failure from below as the client's error: SQLite's "database or disk is full" is the
// operator's disk to fix (507, saying so); anything else is a 500.
static http_error failure_error(const std::string & context, const std::exception & e) {
    const std::string what = e.what();
    if (what.find("database or disk is full") != std::string::npos) {
        return http_error(507, "the disk that holds the data dir is full, so nothing more can be stored (" + what +
                                   "); free space there or move --data-dir; reads still work",
                          "", "disk_full");
    }
    return http_error(500, context + what);
}

void stream_failure_end(httplib::DataSink & sink, const std::exception & e, wire_format wire) {
    fprintf(stderr, "muse serve: a stream failed: %s\n", e.what());
    stream_error_end(sink, failure_error("the stream failed: ", e), wire);
}

void error_write(httplib::Response & res, const http_error & e, wire_format wire) {
    res.status = e.status;
    if (e.retry_after > 0) res.set_header("Retry-After", std::to_string(e.retry_after));
    res.set_content(error_body(e, wire), "application/json");
}

// 2026-12-01T12:00:00Z
static std::string rfc3339_of(int64_t t) {
    const std::time_t tt = (std::time_t) t;
    std::tm           tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

struct api_server::impl {
    model &            mdl;
    server_config      cfg;
    store::database &  db;
    metrics            stats;
    scheduler          sched;
    server_state       st;
    guarded_server     http;        // the connection cap, request deadlines and size caps
    const system_info  sys;         // read once: /health (admins) and /metrics show it
    const std::string  build_info;  // its muse_build_info series
    const int64_t      started = unix_now();  // the model's "created" in /v1/models
    const std::string  started_rfc3339 = rfc3339_of(started);
    const std::string  mdl_name = mdl.info().name;
    const int32_t      n_ctx_seq;   // the most positions one request's sequence holds
    const web_app      web;         // GET / and the app's files (unused with --no-web)

    impl(model & m, session & s, store::database & d, const server_config & c, embedder * e, const safety::checker * safe)
        : mdl(m), cfg(config_with_csrf(c)), db(d), sched(s, c.sched), st{ m, sched, d, cfg, stats, e, safe },
          http(connection_limits_of(c), [](const std::string & path, int status, const std::string & msg, const std::string & code) {
              return error_body(http_error(status, msg, "", code), wire_of_path(path));
          }),
          sys(system_info_read()), build_info(build_info_render(sys)), n_ctx_seq(s.n_ctx_seq()), web(c.web) {}

    // --no-auth's GET /v1/session shows one random CSRF token for the process's life.
    static server_config config_with_csrf(server_config c) {
        if (c.web.no_auth_csrf.empty()) c.web.no_auth_csrf = id_make("csrf_");
        return c;
    }

    static connection_limits connection_limits_of(const server_config & c) {
        connection_limits l;
        l.max_connections     = c.max_connections;
        l.header_timeout_secs = c.header_timeout_secs;
        l.max_body_bytes      = c.limits.max_body_bytes;
        return l;
    }

    // A key header as before (API clients); else a browser's session cookie, whose
    // state-changing requests must carry its CSRF token and no other site's Origin.
    // --no-auth: the user 'local', with the Origin check for state-changing requests.
    caller authenticate(const httplib::Request & req, bool admin) {
        if (cfg.no_auth) {
            if (!method_is_safe(req.method)) origin_check(req);
            return db.user_get_or_create("local", true);
        }
        const std::string key = key_of(req);
        std::optional<store::user> user;
        if (!key.empty()) {
            user = db.key_verify(key);
            if (!user) throw http_error(401, "the API key is not valid (unknown or revoked)", "", "invalid_api_key");
        } else if (!session_cookie_of(req).empty()) {
            const auto s = session_of_request(st, req);
            if (!s) {
                throw http_error(401, "the session has ended (expired, signed out, or its key was revoked); sign in again "
                                      "(POST /v1/session) or send an API key",
                                 "", "invalid_session");
            }
            session_request_check(req, *s);
            user = s->who;
        } else {
            throw http_error(401, "no API key: send Authorization: Bearer KEY (or x-api-key: KEY); create one with `muse keys create --user NAME`",
                             "", "missing_api_key");
        }
        if (admin && !user->admin) {
            throw http_error(403, "this route needs an admin key (`muse keys create --user NAME --admin`)", "", "admin_only");
        }
        return *user;
    }

    // For a public route that shows admins more: no key, a user's key or a bad key is simply
    // not an admin (the route answers as it does for everyone).
    bool caller_is_admin(const httplib::Request & req) {
        if (!cfg.no_auth && key_of(req).empty() && session_cookie_of(req).empty()) return false;
        try {
            return authenticate(req, true).admin;
        } catch (const http_error &) {
            return false;
        }
    }

    // Every route goes through here: authentication, the error boundary, metrics.
    void add(const char * method, const std::string & pattern, const std::string & name, route_access access,
             route_fn fn) {
        const wire_format wire = wire_of_path(pattern);
        auto wrapped = [this, name, wire, access, fn](const httplib::Request & req, httplib::Response & res) {
            try {
                caller who;
                if (access != ROUTE_ACCESS_PUBLIC) who = authenticate(req, access == ROUTE_ACCESS_ADMIN);
                fn(req, res, who);
            } catch (const http_error & e) {
                error_write(res, e, wire);
            } catch (const store::store_error & e) {
                fprintf(stderr, "muse serve: store error on %s: %s\n", name.c_str(), e.what());
                error_write(res, failure_error("the store failed: ", e), wire);
            } catch (const std::exception & e) {
                fprintf(stderr, "muse serve: error on %s: %s\n", name.c_str(), e.what());
                error_write(res, http_error(500, std::string("internal error: ") + e.what()), wire);
            }
            stats.request_count(name, res.status < 0 ? 200 : res.status);
        };
        const std::string m = method;
        if (m == "GET") http.Get(pattern, wrapped);
        else if (m == "POST") http.Post(pattern, wrapped);
        else if (m == "DELETE") http.Delete(pattern, wrapped);
    }

    json model_json() const {
        return { { "id", cfg.model_id }, { "object", "model" }, { "created", started }, { "owned_by", "muse" },
                 { "type", "model" }, { "display_name", mdl_name.empty() ? cfg.model_id : mdl_name },
                 { "created_at", started_rfc3339 }, { "muse", model_capabilities_json() } };
    }

    // What the web app adapts to: what the model takes in and does, and the server's limits.
    json model_capabilities_json() const {
        const auto & info  = mdl.info();
        json         tools = json::array();
        for (const auto & t : cfg.agent.tools) tools.push_back(t);
        return { { "vision", info.has_vision },
                 { "audio", info.has_audio },
                 { "reasoning", info.has_reasoning },
                 { "max_pixels", cfg.limits.media.max_pixels },
                 { "max_agents", reason::k_max_agents },
                 { "tools", tools },
                 { "context", n_ctx_seq } };
    }

    void routes_add() {
        add("POST", "/v1/chat/completions", "chat_completions", ROUTE_ACCESS_USER,
            [this](const httplib::Request & q, httplib::Response & r, const caller & w) { chat_completions_handle(st, q, r, w); });
        add("POST", "/v1/messages", "messages", ROUTE_ACCESS_USER,
            [this](const httplib::Request & q, httplib::Response & r, const caller & w) { messages_handle(st, q, r, w); });
        add("POST", "/v1/messages/count_tokens", "count_tokens", ROUTE_ACCESS_USER,
            [this](const httplib::Request & q, httplib::Response & r, const caller & w) { messages_count_tokens_handle(st, q, r, w); });
        add("POST", "/v1/responses/input_tokens", "input_tokens", ROUTE_ACCESS_USER,
            [this](const httplib::Request & q, httplib::Response & r, const caller & w) { responses_input_tokens_handle(st, q, r, w); });
        add("POST", "/v1/responses", "responses", ROUTE_ACCESS_USER,
            [this](const httplib::Request & q, httplib::Response & r, const caller & w) { responses_create_handle(st, q, r, w); });
        add("GET", R"(/v1/responses/([A-Za-z0-9_-]+))", "responses", ROUTE_ACCESS_USER,
            [this](const httplib::Request & q, httplib::Response & r, const caller & w) { responses_get_handle(st, q, r, w); });
        add("DELETE", R"(/v1/responses/([A-Za-z0-9_-]+))", "responses", ROUTE_ACCESS_USER,
            [this](const httplib::Request & q, httplib::Response & r, const caller & w) { responses_delete_handle(st, q, r, w); });
        add("POST", "/v1/embeddings", "embeddings", ROUTE_ACCESS_USER,
            [this](const httplib::Request & q, httplib::Response & r, const caller & w) { embeddings_handle(st, q, r, w); });
        add("GET", R"(/v1/artifacts/([A-Za-z0-9_-]+))", "artifacts", ROUTE_ACCESS_USER,
            [this](const httplib::Request & q, httplib::Response & r, const caller & w) { artifact_get_handle(st, q, r, w); });
        // One list for both wire formats: OpenAI's fields (object, created, owned_by) and
        // Anthropic's (type, display_name, created_at; the page's has_more, first_id, last_id).
        add("GET", "/v1/models", "models", ROUTE_ACCESS_USER, [this](const httplib::Request &, httplib::Response & r, const caller &) {
            r.set_content(json{ { "object", "list" }, { "data", json::array({ model_json() }) }, { "has_more", false },
                                { "first_id", cfg.model_id }, { "last_id", cfg.model_id } }.dump(),
                          "application/json");
        });
        add("GET", R"(/v1/models/([^/]+))", "models", ROUTE_ACCESS_USER,
            [this](const httplib::Request & q, httplib::Response & r, const caller &) {
                if (q.matches[1] != cfg.model_id) throw http_error(404, "no model " + q.matches[1].str() + "; this server runs " + cfg.model_id);
                r.set_content(model_json().dump(), "application/json");
            });
        data_routes_add(st, [this](const char * method, const std::string & pattern, const std::string & name,
                                   route_access access, route_fn fn) { add(method, pattern, name, access, std::move(fn)); });
        workspace_routes_add(st, [this](const char * method, const std::string & pattern, const std::string & name,
                                        route_access access, route_fn fn) { add(method, pattern, name, access, std::move(fn)); });
        session_routes_add(st, [this](const char * method, const std::string & pattern, const std::string & name,
                                      route_access access, route_fn fn) { add(method, pattern, name, access, std::move(fn)); });
        add("GET", "/health", "health", ROUTE_ACCESS_PUBLIC, [this](const httplib::Request & q, httplib::Response & r, const caller &) {
            const auto l    = sched.load();
            json       body = { { "status", "ok" }, { "model", cfg.model_id },
                                { "slots", { { "busy", l.busy }, { "total", l.total } } }, { "queue", l.queued } };
            // The machine and the build only for admins: the CPU and versions help an attacker.
            if (caller_is_admin(q)) body["system"] = system_info_json(sys);
            r.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
        });
        add("GET", "/metrics", "metrics", ROUTE_ACCESS_ADMIN, [this](const httplib::Request &, httplib::Response & r, const caller &) {
            const auto l = sched.load();
            r.set_content(stats.render(l.queued, l.busy, l.total) + build_info + cache_metrics_render(sched.cache_stats()) +
                              connection_metrics_render(http.stats()),
                          "text/plain; version=0.0.4");
        });
        // The web app: every other GET (registered last, so that every API route comes first).
        if (cfg.web.enabled) {
            add("GET", R"(/.*)", "web", ROUTE_ACCESS_PUBLIC,
                [this](const httplib::Request & q, httplib::Response & r, const caller &) { web.serve(q, r); });
        }
        // Unknown routes and requests httplib refuses itself (a body over the limit) still get
        // the wire format's JSON error.
        http.set_error_handler([this](const httplib::Request & req, httplib::Response & res) {
            if (!res.body.empty()) return;
            const int status = res.status;
            std::string msg  = status == 404 ? "no route " + req.method + " " + req.path + " (see docs/api.md)" :
                               status == 413 ? "the request body is over the server's limit of " +
                                                   std::to_string(cfg.limits.max_body_bytes >> 20) + " MiB (--max-body-mb)" :
                               status == 414 ? "the request line is over 8192 bytes; send a shorter URL (the request goes in the body)" :
                               status == 400 ? "the request could not be parsed: a malformed request line, header or chunked "
                                               "body, or a header line over 8192 bytes" :
                                               "the request could not be served";
            error_write(res, http_error(status, msg, "", status == 413 ? "body_too_large" : ""), wire_of_path(req.path));
            stats.request_count(status == 404 ? "unknown" : "refused", status);
        });
        http.set_payload_max_length(cfg.limits.max_body_bytes);
        // httplib inflates a gzip or brotli body with no bound, past --max-body-mb: none are taken.
        http.set_pre_routing_handler([this](const httplib::Request & req, httplib::Response & res) {
            const std::string enc = req.get_header_value("Content-Encoding");
            if (enc.empty() || enc == "identity") return httplib::Server::HandlerResponse::Unhandled;
            error_write(res, http_error(415, "Content-Encoding " + enc + " is not accepted: send the body uncompressed",
                                        "", "unsupported_content_encoding"), wire_of_path(req.path));
            res.set_header("Connection", "close");
            stats.request_count("refused", 415);
            return httplib::Server::HandlerResponse::Handled;
        });
    }
};

api_server::api_server(model & mdl, session & s, store::database & db, const server_config & cfg, embedder * embed,
                       const safety::checker * safety)
    : impl_(std::make_unique<impl>(mdl, s, db, cfg, embed, safety)) {
    impl_->routes_add();
}

api_server::~api_server() = default;

int api_server::bind() {
    auto & m = *impl_;
    if (m.cfg.port == 0) {
        const int port = m.http.bind_to_any_port(m.cfg.host);
        if (port <= 0) throw std::runtime_error("cannot bind " + m.cfg.host + " to a free port");
        return port;
    }
    if (!m.http.bind_to_port(m.cfg.host, m.cfg.port)) {
        throw std::runtime_error("cannot listen on " + m.cfg.host + ":" + std::to_string(m.cfg.port) +
                                 " (in use, or not an address of this machine); pick another --port or --host");
    }
    return m.cfg.port;
}

std::string api_server::web_source() const { return impl_->cfg.web.enabled ? impl_->web.source() : ""; }

void api_server::listen() { impl_->http.listen_after_bind(); }
void api_server::stop() {
    // Open streams end first (their jobs are cancelled), so that the HTTP threads can finish.
    impl_->sched.cancel_all();
    impl_->http.stop();
}

}  // namespace muse::server
