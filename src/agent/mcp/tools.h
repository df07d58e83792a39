#pragma once
// MCP tools as the agent's tools: each tool of each server is one muse::agent::tool named
// "SERVER.TOOL", whose definition carries the MCP tool's description and inputSchema and whose
// call() goes to the server through its mcp_client. A failed exchange (timeout, cancel, crash,
// garbage) is an is_error result with a short text, never a throw.
#include <memory>
#include <string>

#include "agent/mcp/client.h"
#include "agent/tool.h"

namespace muse::agent {

// "SERVER.TOOL"; characters other than letters, digits, '_' and '-' become '_'.
std::string mcp_tool_name(const std::string & server, const std::string & tool);

class mcp_tool : public tool {
  public:
    mcp_tool(std::shared_ptr<mcp_client> client, mcp_tool_info info);

    chat_tool   definition() const override;
    tool_result call(const nlohmann::json & arguments, const tool_context & ctx) override;

  private:
    std::shared_ptr<mcp_client> client_;
    mcp_tool_info               info_;
    std::string                 name_;
};

}  // namespace muse::agent
