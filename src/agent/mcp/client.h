#pragma once
// One MCP server, as muse talks to it: the initialize handshake (protocol version negotiated),
// tools/list with pagination, tools/call with a deadline and a cancel flag (the server is told
// with notifications/cancelled), pings and other requests from the server answered, its
// notifications ignored. A stdio server that died is started again, once, by the next request
// that needs it; a request it died during fails and says so. Safe from several threads at once.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/mcp/config.h"

namespace muse::agent {

struct mcp_client_options {
    std::chrono::milliseconds start_timeout { 30000 };    // start or connect, then initialize
    std::chrono::milliseconds request_timeout { 30000 };  // tools/list and the like
    std::chrono::milliseconds call_timeout { 300000 };    // tools/call when the caller has no deadline
    size_t                    message_cap = size_t(16) << 20;
};

struct mcp_tool_info {
    std::string    name;
    std::string    title;  // may be empty
    std::string    description;
    nlohmann::json input_schema;  // always an object
};

// The MCP versions muse speaks, newest first: it asks for the first and accepts any.
const std::vector<std::string> & mcp_protocol_versions();

class mcp_client {
  public:
    mcp_client(mcp_server_config config, mcp_client_options options = {});
    ~mcp_client();

    mcp_client(const mcp_client &)             = delete;
    mcp_client & operator=(const mcp_client &) = delete;

    // Starts or connects to the server and runs initialize; throws mcp_error.
    void start();

    std::vector<mcp_tool_info> tools_list();
    // The call's result object (content, isError); throws mcp_error for a failed exchange.
    nlohmann::json tools_call(
        const std::string & name, const nlohmann::json & arguments,
        std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(),
        const std::atomic<bool> *             cancel   = nullptr);
    // Any request: its result, or mcp_error (a JSON-RPC error answer is MCP_ERROR_KIND_SERVER).
    nlohmann::json request(const std::string & method, nlohmann::json params,
                           std::chrono::steady_clock::time_point deadline, const std::atomic<bool> * cancel);

    const mcp_server_config & config() const { return config_; }
    std::string               protocol_version() const;
    nlohmann::json            server_info() const;
    // The stdio server's process id (-1 for HTTP or when not running), and how often it was restarted.
    pid_t server_pid() const;
    int   restarts() const;

  private:
    struct session;

    std::shared_ptr<session> session_open(std::chrono::steady_clock::time_point deadline);
    std::shared_ptr<session> session_get(std::chrono::steady_clock::time_point deadline);
    nlohmann::json           session_request(session & s, const std::string & method, nlohmann::json params,
                                             std::chrono::steady_clock::time_point deadline, const std::atomic<bool> * cancel);

    mcp_server_config  config_;
    mcp_client_options options_;

    mutable std::mutex       mutex_;        // guards the members below
    std::mutex               start_mutex_;  // one (re)start at a time
    std::shared_ptr<session> session_;
    std::string              last_failure_;  // why the last session ended
    int                      starts_ = 0;
};

}  // namespace muse::agent
