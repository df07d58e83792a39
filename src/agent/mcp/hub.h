#pragma once
// The MCP servers of one config file and their tools. The constructor starts every server at
// once (a thread each), runs initialize and tools/list, and keeps what came up; a server that
// fails is reported in failures() (its name, its command or URL, the reason) and does not stop
// the others. Destruction ends the servers the tools no longer need.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/mcp/client.h"
#include "agent/mcp/config.h"
#include "agent/tool.h"

namespace muse::agent {

struct mcp_server_failure {
    std::string server;
    std::string target;  // the command line or the URL
    std::string reason;
};

// "MCP server 'files' (node server.js) did not start: ..."
std::string mcp_server_failure_text(const mcp_server_failure & failure);

class mcp_hub {
  public:
    explicit mcp_hub(std::vector<mcp_server_config> servers, mcp_client_options options = {});
    // Throws muse::input_error for a bad config file.
    explicit mcp_hub(const std::filesystem::path & config_file, mcp_client_options options = {});

    // Every started server's tools, in config order.
    std::vector<tool_ptr>                   tools() const { return tools_; }
    const std::vector<mcp_server_failure> & failures() const { return failures_; }
    // The server's client; nullptr when it did not start or is not in the config.
    std::shared_ptr<mcp_client> client(const std::string & server) const;

  private:
    std::vector<std::shared_ptr<mcp_client>> clients_;
    std::vector<tool_ptr>                    tools_;
    std::vector<mcp_server_failure>          failures_;
};

}  // namespace muse::agent
