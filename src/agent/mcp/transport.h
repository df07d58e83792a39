#pragma once
// How JSON-RPC messages travel to one MCP server and back. A transport delivers every message
// it reads to on_message (from its own threads), reports a request it could not deliver to
// on_request_failed and the end of the link to on_closed. close() stops its threads; after it,
// no callback runs.
#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace muse::agent {

struct mcp_transport_events {
    std::function<void(nlohmann::json message)>                 on_message;
    std::function<void(int64_t id, const std::string & reason)> on_request_failed;
    std::function<void(const std::string & reason)>             on_closed;
};

class mcp_transport {
  public:
    virtual ~mcp_transport() = default;

    virtual void start(mcp_transport_events events) = 0;
    // Throws mcp_error (MCP_ERROR_KIND_TRANSPORT or _TIMEOUT) when the message cannot be sent.
    virtual void send(const nlohmann::json & message, std::chrono::steady_clock::time_point deadline) = 0;
    // The caller stopped waiting for request `id` (timeout, cancel): drop what serves it.
    virtual void abandon(int64_t /*id*/) {}
    // The version initialize agreed on (Streamable HTTP sends it on every later request).
    virtual void protocol_version_set(const std::string & /*version*/) {}
    virtual void close() = 0;
};

}  // namespace muse::agent
