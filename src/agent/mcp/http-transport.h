#pragma once
// Streamable HTTP (MCP 2025-03-26 and later): every message is POSTed to the server's one URL
// with "Accept: application/json, text/event-stream". A request's answer comes back as one JSON
// body or as an SSE stream that may carry the server's notifications and requests before the
// response. The server's Mcp-Session-Id is sent back on every later POST, and MCP-Protocol-Version
// once initialize agreed on one; close() DELETEs the session. Each request's POST runs on its
// own thread with its own connection, so a slow call never holds up another.
#include <atomic>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "agent/mcp/config.h"
#include "agent/mcp/transport.h"

namespace muse::agent {

class mcp_http_transport : public mcp_transport {
  public:
    // Throws mcp_error for a URL it cannot use. A body or SSE event over `message_cap` bytes
    // is refused.
    mcp_http_transport(const mcp_server_config & config, size_t message_cap);
    ~mcp_http_transport() override;

    mcp_http_transport(const mcp_http_transport &)             = delete;
    mcp_http_transport & operator=(const mcp_http_transport &) = delete;

    void start(mcp_transport_events events) override;
    void send(const nlohmann::json & message, std::chrono::steady_clock::time_point deadline) override;
    void abandon(int64_t id) override;
    void protocol_version_set(const std::string & version) override;
    void close() override;

    std::string session_id() const;

  private:
    struct exchange;

    void        exchange_run(exchange & ex);
    void        exchange_reap();
    std::string exchange_failure(const exchange & ex) const;
    void        deliver(std::string_view text, exchange & ex);

    std::string                        origin_;  // scheme://host:port
    std::string                        path_;
    std::map<std::string, std::string> headers_;
    size_t                             message_cap_;
    mcp_transport_events               events_;

    mutable std::mutex                   mutex_;
    std::string                          session_id_;
    std::string                          protocol_version_;
    std::list<std::shared_ptr<exchange>> exchanges_;  // requests whose POST runs
    bool                                 closing_ = false;
};

}  // namespace muse::agent
