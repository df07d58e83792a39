#pragma once
// The one exception the MCP client throws for what a server or the link to it did: the tool
// adapters turn it into an is_error result, the hub into a startup failure.
#include <stdexcept>
#include <string>

namespace muse::agent {

enum mcp_error_kind {
    MCP_ERROR_KIND_TRANSPORT,  // could not start, connect, write or read; the server exited
    MCP_ERROR_KIND_TIMEOUT,    // no answer before the deadline
    MCP_ERROR_KIND_CANCELLED,  // the caller's cancel flag was set
    MCP_ERROR_KIND_SERVER,     // the server answered with a JSON-RPC error
    MCP_ERROR_KIND_PROTOCOL,   // the server answered something MCP does not allow
};

struct mcp_error : std::runtime_error {
    mcp_error(mcp_error_kind kind, const std::string & message) : std::runtime_error(message), kind(kind) {}

    mcp_error_kind kind;
};

}  // namespace muse::agent
