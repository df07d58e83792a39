#include "agent/mcp/client.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "agent/mcp/error.h"
#include "agent/mcp/http-transport.h"
#include "agent/mcp/json-rpc.h"
#include "agent/mcp/pending-requests.h"
#include "agent/mcp/stdio-transport.h"

namespace muse::agent {

using json  = nlohmann::json;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto   client_notify_timeout = std::chrono::seconds(2);
constexpr size_t client_max_pages      = 100;
constexpr size_t client_max_tools      = 2000;

clock::time_point client_deadline(clock::time_point deadline, std::chrono::milliseconds limit) {
    auto now = clock::now();
    return deadline - now > limit ? now + limit : deadline;
}

std::string client_seconds(clock::duration d) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f s", std::chrono::duration<double>(d).count());
    return buf;
}

}  // namespace

const std::vector<std::string> & mcp_protocol_versions() {
    static const std::vector<std::string> versions = { "2025-06-18", "2025-03-26", "2024-11-05" };
    return versions;
}

struct mcp_client::session {
    mcp_pending_requests pending;
    std::atomic<bool>    closed { false };
    std::string          protocol_version;  // set before the session is shared
    json                 server_info = json::object();
    pid_t                pid         = -1;

    mutable std::mutex closed_mutex;
    std::string        closed_reason;

    // Last: it ends, and joins the threads that call into this session, before the rest goes.
    std::unique_ptr<mcp_transport> transport;

    ~session() {
        if (transport) {
            transport->close();
        }
    }

    std::string reason() const {
        std::lock_guard<std::mutex> lock(closed_mutex);
        return closed_reason;
    }

    void on_message(json message) {
        switch (jsonrpc_classify(message)) {
            case JSONRPC_KIND_RESPONSE:
                if (auto id = jsonrpc_response_id(message)) {
                    pending.resolve(*id, std::move(message));
                }
                break;
            case JSONRPC_KIND_REQUEST: {
                // Sampling, elicitation, roots: muse offers none of them (its initialize said
                // so); ping must be answered or the server may drop us.
                const json & id     = message["id"];
                const auto   method = message["method"].get<std::string>();
                json         reply  = method == "ping"
                                          ? jsonrpc_result(id, json::object())
                                          : jsonrpc_error(id, JSONRPC_METHOD_NOT_FOUND, "muse does not support " + method);
                try {
                    transport->send(reply, clock::now() + client_notify_timeout);
                } catch (const mcp_error &) {
                    // The link is going; its end is reported through on_closed.
                }
                break;
            }
            case JSONRPC_KIND_NOTIFICATION:  // progress, logging, list changes: nothing muse acts on
            case JSONRPC_KIND_INVALID:
                break;
        }
    }

    void on_closed(const std::string & reason) {
        {
            std::lock_guard<std::mutex> lock(closed_mutex);
            if (closed_reason.empty()) {
                closed_reason = reason;
            }
        }
        closed = true;
        pending.fail_all(reason);
    }
};

mcp_client::mcp_client(mcp_server_config config, mcp_client_options options) :
    config_(std::move(config)), options_(options) {}

mcp_client::~mcp_client() = default;

std::shared_ptr<mcp_client::session> mcp_client::session_open(clock::time_point deadline) {
    auto s = std::make_shared<session>();
    if (config_.type == MCP_TRANSPORT_TYPE_STDIO) {
        auto stdio   = std::make_unique<mcp_stdio_transport>(config_, options_.message_cap);
        s->pid       = stdio->pid();
        s->transport = std::move(stdio);
    } else {
        s->transport = std::make_unique<mcp_http_transport>(config_, options_.message_cap);
    }
    session * raw = s.get();
    s->transport->start({
        [raw](json message) { raw->on_message(std::move(message)); },
        [raw](int64_t id, const std::string & reason) { raw->pending.fail(id, reason); },
        [raw](const std::string & reason) { raw->on_closed(reason); },
    });

    json params = {
        { "protocolVersion", mcp_protocol_versions().front() },
        { "capabilities", json::object() },
        { "clientInfo", { { "name", "muse" }, { "version", "1.0.0" } } },
    };
    json result = session_request(*s, "initialize", std::move(params), deadline, nullptr);
    if (!result.is_object()) {
        throw mcp_error(MCP_ERROR_KIND_PROTOCOL, "the answer to initialize is not an object");
    }
    auto version = result.find("protocolVersion");
    if (version == result.end() || !version->is_string()) {
        throw mcp_error(MCP_ERROR_KIND_PROTOCOL, "the answer to initialize has no protocolVersion");
    }
    const auto & known = mcp_protocol_versions();
    if (std::find(known.begin(), known.end(), version->get<std::string>()) == known.end()) {
        std::string list;
        for (const auto & v : known) {
            list += (list.empty() ? "" : ", ") + v;
        }
        throw mcp_error(MCP_ERROR_KIND_PROTOCOL, "the server speaks MCP " + version->dump() + "; muse speaks " + list +
                                                     "; use a server version that supports one of them");
    }
    s->protocol_version = version->get<std::string>();
    if (result.contains("serverInfo") && result["serverInfo"].is_object()) {
        s->server_info = result["serverInfo"];
    }
    s->transport->protocol_version_set(s->protocol_version);
    s->transport->send(jsonrpc_notification("notifications/initialized", nullptr), deadline);
    return s;
}

void mcp_client::start() {
    std::lock_guard<std::mutex> start_lock(start_mutex_);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (session_ && !session_->closed) {
            return;
        }
    }
    auto                        s = session_open(clock::now() + options_.start_timeout);
    std::lock_guard<std::mutex> lock(mutex_);
    session_ = std::move(s);
    starts_++;
}

std::shared_ptr<mcp_client::session> mcp_client::session_get(clock::time_point deadline) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (session_ && !session_->closed) {
            return session_;
        }
    }
    // Gone (or never started): one try at starting it, for this request.
    std::lock_guard<std::mutex> start_lock(start_mutex_);
    std::string                 before;
    std::shared_ptr<session>    dead;  // ended outside mutex_: ending a process takes a moment
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (session_ && !session_->closed) {
            return session_;  // another request restarted it meanwhile
        }
        if (session_) {
            before = session_->reason();
        }
        dead = std::move(session_);
    }
    dead.reset();
    try {
        auto                        s = session_open(client_deadline(deadline, options_.start_timeout));
        std::lock_guard<std::mutex> lock(mutex_);
        session_ = s;
        starts_++;
        return s;
    } catch (const mcp_error & e) {
        std::string what = before.empty() ? "it is not running" : "it had stopped (" + before + ")";
        throw mcp_error(e.kind, what + " and did not start again: " + e.what());
    }
}

json mcp_client::session_request(session & s, const std::string & method, json params, clock::time_point deadline,
                                 const std::atomic<bool> * cancel) {
    const auto started = clock::now();
    int64_t    id      = s.pending.add();
    try {
        s.transport->send(jsonrpc_request(id, method, std::move(params)), deadline);
    } catch (const mcp_error &) {
        s.pending.remove(id);
        throw;
    }
    json response;
    try {
        response = s.pending.wait(id, deadline, cancel);
    } catch (const mcp_error & e) {
        if (e.kind != MCP_ERROR_KIND_TIMEOUT && e.kind != MCP_ERROR_KIND_CANCELLED) {
            throw;
        }
        const bool timed_out = e.kind == MCP_ERROR_KIND_TIMEOUT;
        if (method != "initialize") {  // initialize must not be cancelled (MCP spec)
            json note = { { "requestId", id }, { "reason", timed_out ? "timed out" : "cancelled by the user" } };
            try {
                s.transport->send(jsonrpc_notification("notifications/cancelled", std::move(note)),
                                  clock::now() + client_notify_timeout);
            } catch (const mcp_error &) {
            }
        }
        s.transport->abandon(id);
        if (timed_out) {
            throw mcp_error(e.kind, "no answer to " + method + " within " + client_seconds(clock::now() - started));
        }
        throw mcp_error(e.kind, method + " was cancelled");
    }
    auto error = response.find("error");
    if (error != response.end()) {
        throw mcp_error(MCP_ERROR_KIND_SERVER, jsonrpc_error_text(*error));
    }
    auto result = response.find("result");
    if (result == response.end()) {
        throw mcp_error(MCP_ERROR_KIND_PROTOCOL, "the answer to " + method + " has no result");
    }
    return std::move(*result);
}

json mcp_client::request(const std::string & method, json params, clock::time_point deadline,
                         const std::atomic<bool> * cancel) {
    std::shared_ptr<session> s = session_get(deadline);
    return session_request(*s, method, std::move(params), deadline, cancel);
}

std::vector<mcp_tool_info> mcp_client::tools_list() {
    const auto                 deadline = clock::now() + options_.request_timeout;
    std::vector<mcp_tool_info> out;
    std::set<std::string>      names;
    std::set<std::string>      cursors;
    std::string                cursor;
    for (size_t page = 0; page < client_max_pages; page++) {
        json params = json::object();
        if (!cursor.empty()) {
            params["cursor"] = cursor;
        }
        json result = request("tools/list", std::move(params), deadline, nullptr);
        if (!result.is_object() || !result.contains("tools") || !result["tools"].is_array()) {
            throw mcp_error(MCP_ERROR_KIND_PROTOCOL, "the answer to tools/list has no \"tools\" array");
        }
        for (const json & tool : result["tools"]) {
            if (!tool.is_object() || !tool.contains("name") || !tool["name"].is_string()) {
                continue;  // a tool without a name cannot be called
            }
            mcp_tool_info info;
            info.name = tool["name"].get<std::string>();
            if (info.name.empty() || !names.insert(info.name).second || out.size() >= client_max_tools) {
                continue;
            }
            if (tool.contains("title") && tool["title"].is_string()) {
                info.title = tool["title"].get<std::string>();
            }
            if (tool.contains("description") && tool["description"].is_string()) {
                info.description = tool["description"].get<std::string>();
            }
            if (tool.contains("inputSchema") && tool["inputSchema"].is_object()) {
                info.input_schema = tool["inputSchema"];
            } else {
                info.input_schema = { { "type", "object" }, { "properties", json::object() } };
            }
            out.push_back(std::move(info));
        }
        auto next = result.find("nextCursor");
        if (next == result.end() || !next->is_string() || next->get<std::string>().empty()) {
            return out;
        }
        cursor = next->get<std::string>();
        if (!cursors.insert(cursor).second) {
            return out;  // the server sent a cursor again: its list goes round in a loop
        }
    }
    return out;
}

json mcp_client::tools_call(const std::string & name, const json & arguments, clock::time_point deadline,
                            const std::atomic<bool> * cancel) {
    json params = { { "name", name }, { "arguments", arguments.is_null() ? json::object() : arguments } };
    json result = request("tools/call", std::move(params), client_deadline(deadline, options_.call_timeout), cancel);
    if (!result.is_object()) {
        throw mcp_error(MCP_ERROR_KIND_PROTOCOL,
                        std::string("the answer to tools/call is ") + result.type_name() + ", not a result object");
    }
    return result;
}

std::string mcp_client::protocol_version() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return session_ ? session_->protocol_version : "";
}

json mcp_client::server_info() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return session_ ? session_->server_info : json::object();
}

pid_t mcp_client::server_pid() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return session_ && !session_->closed ? session_->pid : -1;
}

int mcp_client::restarts() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::max(0, starts_ - 1);
}

}  // namespace muse::agent
