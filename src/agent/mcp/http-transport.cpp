#include "agent/mcp/http-transport.h"

#include <httplib.h>

#include <algorithm>
#include <thread>

#include "agent/mcp/error.h"
#include "agent/mcp/json-rpc.h"
#include "agent/mcp/sse-parser.h"

namespace muse::agent {

namespace {

constexpr auto   http_connect_timeout  = std::chrono::seconds(10);
constexpr auto   http_notify_timeout   = std::chrono::seconds(10);  // a notification's POST
constexpr auto   http_delete_timeout   = std::chrono::seconds(2);
constexpr size_t http_error_body_bytes = 300;

std::string http_lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

// At least a second: httplib takes whole seconds and microseconds, and 0 would mean "wait forever" nowhere.
std::chrono::microseconds http_time_left(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
    return std::max(left, std::chrono::microseconds(std::chrono::seconds(1)));
}

}  // namespace

struct mcp_http_transport::exchange {
    int64_t                               id = -1;  // -1: a notification or a response; no answer comes
    std::string                           body;
    std::chrono::steady_clock::time_point deadline;
    std::unique_ptr<httplib::Client>      client;
    std::thread                           thread;
    std::atomic<bool>                     stopped { false };
    std::atomic<bool>                     done { false };

    bool           sent_session = false;
    bool           ok           = false;
    httplib::Error error        = httplib::Error::Success;
    int            status       = 0;
    bool           answered     = false;  // the response to `id` came
    bool           over_cap     = false;
    bool           event_stream = false;
    std::string    error_body;
    std::string    json_body;
};

mcp_http_transport::mcp_http_transport(const mcp_server_config & config, size_t message_cap) :
    headers_(config.headers), message_cap_(message_cap) {
    size_t scheme_end = config.url.find("://");
    if (scheme_end == std::string::npos) {
        throw mcp_error(MCP_ERROR_KIND_TRANSPORT, "'" + config.url + "' is not a URL");
    }
    size_t path_start = config.url.find('/', scheme_end + 3);
    origin_           = config.url.substr(0, path_start);
    path_             = path_start == std::string::npos ? "/" : config.url.substr(path_start);
    if (origin_.size() <= scheme_end + 3) {
        throw mcp_error(MCP_ERROR_KIND_TRANSPORT, "'" + config.url + "' has no host");
    }
    httplib::Client probe(origin_);
    if (!probe.is_valid()) {
        throw mcp_error(MCP_ERROR_KIND_TRANSPORT, "cannot use the URL '" + config.url + "'");
    }
}

mcp_http_transport::~mcp_http_transport() {
    close();
}

void mcp_http_transport::start(mcp_transport_events events) {
    events_ = std::move(events);
}

std::string mcp_http_transport::session_id() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return session_id_;
}

void mcp_http_transport::protocol_version_set(const std::string & version) {
    std::lock_guard<std::mutex> lock(mutex_);
    protocol_version_ = version;
}

void mcp_http_transport::deliver(std::string_view text, exchange & ex) {
    std::optional<nlohmann::json> parsed = jsonrpc_parse(text);
    if (!parsed) {
        return;  // not JSON: nothing to act on (the request fails below if it stays unanswered)
    }
    nlohmann::json & message = *parsed;
    auto             one     = [&](nlohmann::json m) {
        if (ex.id >= 0 && jsonrpc_response_id(m) == ex.id) {
            ex.answered = true;
        }
        events_.on_message(std::move(m));
    };
    if (message.is_array()) {
        for (auto & item : message) {
            one(std::move(item));
        }
    } else {
        one(std::move(message));
    }
}

void mcp_http_transport::exchange_run(exchange & ex) {
    httplib::Client & cli  = *ex.client;
    auto              left = http_time_left(ex.deadline);
    cli.set_connection_timeout(std::min<std::chrono::microseconds>(left, http_connect_timeout));
    cli.set_read_timeout(left);
    cli.set_write_timeout(left);
    cli.set_follow_location(false);
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    cli.enable_server_certificate_verification(true);
#endif

    httplib::Request req;
    req.method = "POST";
    req.path   = path_;
    for (const auto & [k, v] : headers_) {
        req.headers.emplace(k, v);
    }
    req.headers.emplace("Content-Type", "application/json");
    req.headers.emplace("Accept", "application/json, text/event-stream");
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!session_id_.empty()) {
            req.headers.emplace("Mcp-Session-Id", session_id_);
            ex.sent_session = true;
        }
        if (!protocol_version_.empty()) {
            req.headers.emplace("MCP-Protocol-Version", protocol_version_);
        }
    }
    req.body = ex.body;

    mcp_sse_parser sse(message_cap_);
    req.response_handler = [&](const httplib::Response & res) {
        ex.status = res.status;
        ex.event_stream =
            http_lower(res.get_header_value("Content-Type")).find("text/event-stream") != std::string::npos;
        std::string sid = res.get_header_value("Mcp-Session-Id");
        if (res.status >= 200 && res.status < 300 && !sid.empty()) {
            std::lock_guard<std::mutex> lock(mutex_);
            session_id_ = sid;
        }
        return !ex.stopped.load();
    };
    req.content_receiver = [&](const char * data, size_t size, uint64_t, uint64_t) {
        if (ex.stopped) {
            return false;
        }
        if (ex.status < 200 || ex.status >= 300) {
            size_t room = http_error_body_bytes - std::min(http_error_body_bytes, ex.error_body.size());
            ex.error_body.append(data, std::min(room, size));
            return true;
        }
        if (ex.event_stream) {
            bool fits   = sse.feed(std::string_view(data, size), [&](const mcp_sse_event & event) {
                if (event.type == "message" || event.type.empty()) {
                    deliver(event.data, ex);
                }
            });
            ex.over_cap = !fits;
            return fits;
        }
        if (ex.json_body.size() + size > message_cap_) {
            ex.over_cap = true;
            return false;
        }
        ex.json_body.append(data, size);
        return true;
    };

    httplib::Response res;
    ex.ok = cli.send(req, res, ex.error);
    if (ex.ok && !ex.event_stream && ex.status >= 200 && ex.status < 300 && !ex.json_body.empty()) {
        deliver(ex.json_body, ex);
    }
}

std::string mcp_http_transport::exchange_failure(const exchange & ex) const {
    if (ex.over_cap) {
        return "the server sent a message over " + std::to_string(message_cap_ >> 20) + " MiB";
    }
    if (!ex.ok && ex.status == 0) {
        if (std::chrono::steady_clock::now() >= ex.deadline) {
            return "timed out";
        }
        return "cannot reach " + origin_ + path_ + ": " + httplib::to_string(ex.error);
    }
    if (ex.status < 200 || ex.status >= 300) {
        std::string out  = "HTTP " + std::to_string(ex.status) + " from " + origin_ + path_;
        std::string text = nlohmann::json(ex.error_body).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (ex.error_body.size() > 2) {
            out += ": " + text;
        }
        return out;
    }
    if (!ex.ok) {
        return "the response from " + origin_ + path_ + " broke off: " + httplib::to_string(ex.error);
    }
    if (ex.id >= 0 && !ex.answered) {
        return "the server's reply held no response to the request";
    }
    return "";
}

void mcp_http_transport::exchange_reap() {
    std::list<std::shared_ptr<exchange>> finished;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto it = exchanges_.begin(); it != exchanges_.end();) {
            if ((*it)->done) {
                finished.push_back(std::move(*it));
                it = exchanges_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto & ex : finished) {
        ex->thread.join();
    }
}

void mcp_http_transport::send(const nlohmann::json & message, std::chrono::steady_clock::time_point deadline) {
    exchange_reap();
    auto ex    = std::make_shared<exchange>();
    ex->body   = jsonrpc_dump(message);
    ex->client = std::make_unique<httplib::Client>(origin_);
    if (jsonrpc_classify(message) == JSONRPC_KIND_REQUEST && message["id"].is_number_integer()) {
        ex->id       = message["id"].get<int64_t>();
        ex->deadline = deadline;
        std::lock_guard<std::mutex> lock(mutex_);
        if (closing_) {
            throw mcp_error(MCP_ERROR_KIND_TRANSPORT, "the connection is closed");
        }
        exchanges_.push_back(ex);
        ex->thread = std::thread([this, raw = ex.get()] {
            exchange_run(*raw);
            if (raw->status == 404 && raw->sent_session && events_.on_closed) {
                events_.on_closed("the server ended the session (HTTP 404)");
            }
            std::string failure = exchange_failure(*raw);
            if (!failure.empty() && !raw->stopped && events_.on_request_failed) {
                events_.on_request_failed(raw->id, failure);
            }
            raw->done = true;
        });
        return;
    }
    // A notification or a response: nothing comes back but 202 Accepted, so POST it now.
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (closing_) {
            throw mcp_error(MCP_ERROR_KIND_TRANSPORT, "the connection is closed");
        }
    }
    ex->deadline = std::min(deadline, std::chrono::steady_clock::now() + http_notify_timeout);
    exchange_run(*ex);
    std::string failure = exchange_failure(*ex);
    if (!failure.empty()) {
        throw mcp_error(failure == "timed out" ? MCP_ERROR_KIND_TIMEOUT : MCP_ERROR_KIND_TRANSPORT, failure);
    }
}

void mcp_http_transport::abandon(int64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto & ex : exchanges_) {
        if (ex->id == id) {
            ex->stopped = true;
            ex->client->stop();
        }
    }
}

void mcp_http_transport::close() {
    std::string session;
    std::string version;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (closing_) {
            return;
        }
        closing_ = true;
        session  = session_id_;
        version  = protocol_version_;
        for (auto & ex : exchanges_) {
            ex->stopped = true;
            ex->client->stop();
        }
    }
    if (!session.empty()) {
        // Tell the server the session is over; a server that does not answer at once is left alone.
        httplib::Client cli(origin_);
        cli.set_connection_timeout(http_delete_timeout);
        cli.set_read_timeout(http_delete_timeout);
        cli.set_write_timeout(http_delete_timeout);
        httplib::Headers headers;
        for (const auto & [k, v] : headers_) {
            headers.emplace(k, v);
        }
        headers.emplace("Mcp-Session-Id", session);
        if (!version.empty()) {
            headers.emplace("MCP-Protocol-Version", version);
        }
        cli.Delete(path_.c_str(), headers);
    }
    std::list<std::shared_ptr<exchange>> all;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        all.swap(exchanges_);
    }
    for (auto & ex : all) {
        // stop() only reaches a socket that is open: repeat it until the POST has ended.
        while (!ex->done) {
            ex->client->stop();
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ex->thread.join();
    }
}

}  // namespace muse::agent
