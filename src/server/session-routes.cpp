#include "server/session-routes.h"

#include "server/json-fields.h"
#include "server/wire-util.h"

#include <sodium.h>

namespace muse::server {

using json = nlohmann::json;

namespace {

// A session's last use is written at most once a minute: each write is an fsync.
constexpr int64_t k_touch_every_secs = 60;

void json_send(httplib::Response & res, const json & j) {
    res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

std::string cookie_header(const server_config & cfg, const std::string & value, int64_t max_age) {
    std::string c = std::string(k_session_cookie) + "=" + value + "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" +
                    std::to_string(max_age);
    if (cfg.web.cookie_secure) c += "; Secure";
    return c;
}

json session_json(const store::browser_session & s) {
    return { { "object", "session" }, { "user", s.who.name }, { "admin", s.who.admin }, { "expires_at", s.expires_at },
             { "csrf_token", s.csrf_token } };
}

json no_auth_session_json(const server_config & cfg) {
    return { { "object", "session" }, { "user", "local" }, { "admin", true }, { "auth", "none" },
             { "csrf_token", cfg.web.no_auth_csrf } };
}

json key_json(const store::api_key_info & k) {
    return { { "id", k.id },
             { "object", "api_key" },
             { "name", k.name },
             { "created_at", k.created_at },
             { "last_used_at", k.last_used_at == 0 ? json(nullptr) : json(k.last_used_at) },
             { "revoked", k.revoked } };
}

// "http://host:port/..." → "host:port"; "" when it is not an origin with a host ("null").
std::string origin_host(const std::string & origin) {
    const size_t scheme = origin.find("://");
    if (scheme == std::string::npos) return "";
    std::string rest = origin.substr(scheme + 3);
    const size_t end = rest.find('/');
    if (end != std::string::npos) rest.resize(end);
    return rest;
}

std::string lower(std::string s) {
    for (char & c : s) c = (char) std::tolower((unsigned char) c);
    return s;
}

}  // namespace

std::string session_cookie_of(const httplib::Request & req) {
    const std::string header = req.get_header_value("Cookie");
    size_t            pos    = 0;
    while (pos < header.size()) {
        size_t end = header.find(';', pos);
        if (end == std::string::npos) end = header.size();
        std::string part = header.substr(pos, end - pos);
        const size_t first = part.find_first_not_of(' ');
        part = first == std::string::npos ? "" : part.substr(first);
        const std::string name = std::string(k_session_cookie) + "=";
        if (part.rfind(name, 0) == 0) {
            std::string value = part.substr(name.size());
            while (!value.empty() && value.back() == ' ') value.pop_back();
            return value;
        }
        pos = end + 1;
    }
    return "";
}

bool method_is_safe(const std::string & method) { return method == "GET" || method == "HEAD" || method == "OPTIONS"; }

void origin_check(const httplib::Request & req) {
    if (!req.has_header("Origin")) return;
    const std::string origin = req.get_header_value("Origin");
    const std::string host   = req.get_header_value("Host");
    if (host.empty() || lower(origin_host(origin)) != lower(host)) {
        throw http_error(403, "the request comes from the page of another site (Origin " + origin + ", this server is " +
                                  (host.empty() ? std::string("unnamed: no Host header") : host) +
                                  "); a browser may change data here only from this server's own web app",
                         "", "cross_origin");
    }
}

std::optional<store::browser_session> session_of_request(server_state & st, const httplib::Request & req) {
    const std::string token = session_cookie_of(req);
    if (token.empty()) return std::nullopt;
    auto s = st.db.session_find(token);
    if (s && unix_now() - s->last_seen_at >= k_touch_every_secs) st.db.session_touch(s->id);
    return s;
}

void session_request_check(const httplib::Request & req, const store::browser_session & s) {
    if (method_is_safe(req.method)) return;
    origin_check(req);
    const std::string sent = req.get_header_value("X-Muse-CSRF");
    if (sent.size() != s.csrf_token.size() || sodium_memcmp(sent.data(), s.csrf_token.data(), sent.size()) != 0) {
        throw http_error(403, std::string(sent.empty() ? "no X-Muse-CSRF header" : "the X-Muse-CSRF header is not this session's token") +
                                  " on a " + req.method + " signed in by cookie; send the csrf_token that POST or GET "
                                  "/v1/session answered (or an API key header instead of the cookie)",
                         "", "csrf_failed");
    }
}

void session_routes_add(server_state & st, const route_adder & add) {
    add("POST", "/v1/session", "session", ROUTE_ACCESS_PUBLIC,
        [&st](const httplib::Request & req, httplib::Response & res, const caller &) {
            origin_check(req);
            if (st.cfg.no_auth) return json_send(res, no_auth_session_json(st.cfg));
            const json body = body_json(req);
            if (!body.is_object()) throw http_error(400, "the request body must be a JSON object: {\"api_key\": \"muse_k_...\"}");
            const std::string key = str_field(body, "api_key", "", true);
            std::string       key_id;
            const auto        who = st.db.key_verify(key, &key_id);
            if (!who) {
                throw http_error(401, "the API key is not valid (unknown or revoked); create one with `muse keys create --user NAME`",
                                 "api_key", "invalid_api_key");
            }
            const auto made = st.db.session_create(who->id, key_id, st.cfg.web.session_secs);
            res.set_header("Set-Cookie", cookie_header(st.cfg, made.token, st.cfg.web.session_secs));
            res.set_header("Cache-Control", "no-store");
            json_send(res, session_json(made.session));
        });
    add("GET", "/v1/session", "session", ROUTE_ACCESS_PUBLIC,
        [&st](const httplib::Request & req, httplib::Response & res, const caller &) {
            res.set_header("Cache-Control", "no-store");
            if (st.cfg.no_auth) return json_send(res, no_auth_session_json(st.cfg));
            const auto s = session_of_request(st, req);
            if (!s) {
                throw http_error(401, session_cookie_of(req).empty() ?
                                          "not signed in: POST /v1/session with {\"api_key\": \"muse_k_...\"} first" :
                                          "the session has ended (expired, signed out, or its key was revoked); sign in again",
                                 "", "invalid_session");
            }
            json_send(res, session_json(*s));
        });
    add("DELETE", "/v1/session", "session", ROUTE_ACCESS_PUBLIC,
        [&st](const httplib::Request & req, httplib::Response & res, const caller &) {
            origin_check(req);
            bool deleted = false;
            if (!st.cfg.no_auth) {
                if (const auto s = session_of_request(st, req)) {
                    session_request_check(req, *s);
                    deleted = st.db.session_delete(session_cookie_of(req));
                }
            }
            res.set_header("Set-Cookie", cookie_header(st.cfg, "", 0));
            json_send(res, { { "object", "session.deleted" }, { "deleted", deleted } });
        });

    // --- the caller's own API keys
    add("GET", "/v1/me/keys", "me", ROUTE_ACCESS_USER, [&st](const httplib::Request &, httplib::Response & res, const caller & who) {
        json data = json::array();
        for (const auto & k : st.db.key_list(who.id)) data.push_back(key_json(k));
        json_send(res, { { "object", "list" }, { "data", data } });
    });
    add("POST", "/v1/me/keys", "me", ROUTE_ACCESS_USER, [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
        json body = json::object();
        if (!req.body.empty()) body = body_json(req);
        if (!body.is_object()) throw http_error(400, "the request body must be a JSON object: {\"name\": \"laptop\"} or {}");
        const std::string name = str_field(body, "name", "", false);
        if (name.size() > 64) throw http_error(400, "name is " + std::to_string(name.size()) + " bytes; give at most 64", "name");
        std::string       id;
        const std::string key = st.db.key_create(who.name, false, &id, name);
        for (const auto & k : st.db.key_list(who.id)) {
            if (k.id != id) continue;
            json out   = key_json(k);
            out["key"] = key;  // shown once
            res.set_header("Cache-Control", "no-store");
            return json_send(res, out);
        }
        throw http_error(500, "the new key " + id + " is not in the store after its creation");
    });
    add("DELETE", R"(/v1/me/keys/([^/]+))", "me", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            const std::string id = req.matches[1];
            for (const auto & k : st.db.key_list(who.id)) {
                if (k.id != id) continue;
                st.db.key_revoke(id);
                return json_send(res, { { "id", id }, { "object", "api_key.deleted" }, { "deleted", true } });
            }
            throw http_error(404, "no key " + id + " of yours; GET /v1/me/keys lists them", "key_id", "key_not_found");
        });
}

}  // namespace muse::server
