#pragma once
// The MCP servers muse connects to, read from the `mcpServers` JSON that Claude Desktop and
// llama-server use:
//   {"mcpServers": {"files": {"command": "node", "args": ["server.js"], "env": {"K": "V"}},
//                   "remote": {"url": "http://127.0.0.1:3001/mcp", "headers": {"Authorization": "Bearer x"}}}}
// A bad file throws muse::input_error naming the file, the server, the problem and the fix.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace muse::agent {

enum mcp_transport_type {
    MCP_TRANSPORT_TYPE_STDIO,  // a child process speaking newline-delimited JSON-RPC on stdin/stdout
    MCP_TRANSPORT_TYPE_HTTP,   // Streamable HTTP: JSON-RPC POSTed to one URL
};

struct mcp_server_config {
    std::string        name;
    mcp_transport_type type = MCP_TRANSPORT_TYPE_STDIO;

    // stdio
    std::string                        command;
    std::vector<std::string>           args;
    std::map<std::string, std::string> env;  // on top of PATH and HOME; nothing else of ours leaks
    std::string                        cwd;  // empty: muse's own

    // http
    std::string                        url;
    std::map<std::string, std::string> headers;
};

// `source` names the text in messages (the file's path).
std::vector<mcp_server_config> mcp_config_parse(const std::string & text, const std::string & source);
std::vector<mcp_server_config> mcp_config_load(const std::filesystem::path & path);

// "node server.js" or the URL: what a message about the server shows.
std::string mcp_server_target(const mcp_server_config & config);

}  // namespace muse::agent
