#pragma once
// The benchmarks' HTTP side: JSON and streamed (server-sent events) POSTs to an OpenAI-style
// server, through Debian's cpp-httplib, the same library muse's server uses.
#include "engine/error.h"

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace muse::bench {

// A client for `url` (http://HOST:PORT); `api_key`, when set, goes as a bearer token.
inline httplib::Client client_make(const std::string & url, const std::string & api_key, int timeout_s) {
    httplib::Client c(url);
    if (!c.is_valid()) throw input_error("--url " + url + ": not an http://HOST:PORT address");
    c.set_connection_timeout(10);
    c.set_read_timeout(timeout_s);
    c.set_write_timeout(timeout_s);
    if (!api_key.empty()) c.set_bearer_token_auth(api_key);
    return c;
}

inline std::string post_failure(const std::string & path, int status, const std::string & body) {
    return "POST " + path + " answered " + std::to_string(status) + ": " + body.substr(0, 400);
}

// POSTs `body` and returns the parsed JSON answer; throws on a transport error or a non-200 status.
inline nlohmann::json post_json(httplib::Client & c, const std::string & path, const nlohmann::json & body) {
    auto res = c.Post(path, body.dump(), "application/json");
    if (!res) throw runtime_error("POST " + path + " failed: " + httplib::to_string(res.error()));
    if (res->status != 200) throw runtime_error(post_failure(path, res->status, res->body));
    return nlohmann::json::parse(res->body);
}

// POSTs `body` (which asks for `stream: true`) and calls `on_event` with each `data:` JSON object
// the moment its line arrives; `data: [DONE]` ends the stream. Throws on a transport error, a
// non-200 status or an `error` event.
inline void post_stream(httplib::Client & c, const std::string & path, const nlohmann::json & body,
                        const std::function<void(const nlohmann::json &)> & on_event) {
    httplib::Request req;
    req.method = "POST";
    req.path   = path;
    req.body   = body.dump();
    req.headers.emplace("Content-Type", "application/json");
    req.headers.emplace("Accept", "text/event-stream");
    int         status = 0;
    std::string pending, raw;
    req.response_handler = [&](const httplib::Response & r) {
        status = r.status;
        return true;
    };
    req.content_receiver = [&](const char * data, size_t n, uint64_t, uint64_t) {
        if (status != 200) {
            raw.append(data, n);
            return true;
        }
        pending.append(data, n);
        size_t eol;
        while ((eol = pending.find('\n')) != std::string::npos) {
            std::string line = pending.substr(0, eol);
            pending.erase(0, eol + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.rfind("data:", 0) != 0) continue;  // blank separators, comments, `event:` lines
            const std::string payload = line.substr(line[5] == ' ' ? 6 : 5);
            if (payload == "[DONE]") continue;
            auto ev = nlohmann::json::parse(payload, nullptr, false);
            if (ev.is_discarded()) throw runtime_error("POST " + path + ": not JSON in the stream: " + payload.substr(0, 200));
            if (ev.contains("error")) throw runtime_error("POST " + path + ": error event: " + ev["error"].dump());
            on_event(ev);
        }
        return true;
    };
    auto res = c.send(req);
    if (!res) throw runtime_error("POST " + path + " failed: " + httplib::to_string(res.error()));
    if (status != 200) throw runtime_error(post_failure(path, status, raw.empty() ? res->body : raw));
}

}  // namespace muse::bench
