#pragma once
// The server-side tools on the command line: `muse run --tools python,artifacts[,spawn_agent,mcp]
// [--mcp FILE]` and `muse serve --tools ... --mcp FILE`. Off unless named: the sandbox and the
// MCP servers open only what the operator turns on.
#include "agent/loop.h"
#include "agent/tools/artifacts.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace muse::cli {

struct agent_options {
    std::vector<std::string> tools;         // names (tool_set_names)
    std::string              mcp_file;      // mcpServers JSON (Claude Desktop's format)
    std::string              workdir;       // muse run: the files' folder (/mnt/data)
    std::string              tool_choice;   // muse run: auto, required, none or a tool's name
    int                      max_steps    = 8;
    int                      max_argument_chars = 0;
    double                   tool_timeout = 60;   // seconds, one call
    double                   python_secs  = 30;   // one python run's wall clock
    int64_t                  python_memory_mb = 2048;
    int32_t                  subagent_max_tokens = 512;  // spawn_agent: each sub-agent's answer
    bool                     web = false;           // --web: the same as naming web in --tools
    std::vector<std::string> web_allow;             // hosts (host or host:port) the SSRF guard lets through
    std::string              search_url;            // a SearXNG instance for web_search
    std::vector<std::string> files;                 // muse run/chat: files file_search searches
};

// --web adds "web" to the tool names; throws input_error for --web-allow or --search-url
// without the web tools, or --files without file_search.
void agent_options_resolve(agent_options & o);

// --mcp, --max-steps, --tool-timeout, --python-timeout, --python-memory, --max-argument-chars
// (the tool names come with --tools, which `muse run` shares with its tool-definitions file);
// `local` (muse run and chat): --tool-choice and --workdir too.
void agent_options_add(CLI::App & app, agent_options & o, bool local = false);

// What the options turn on: the python tool, the MCP servers' tools (the servers started; one
// that fails is said on stderr and the others go on), and what keeps them alive.
struct agent_tools {
    agent::tool_ptr              python;
    std::vector<agent::tool_ptr> mcp;
    std::vector<agent::tool_ptr> web;  // open_url, find_in_page (and web_search with --search-url)
    std::shared_ptr<void>        keep;
};
// Throws input_error for an unknown name, --mcp without "mcp" or the reverse, a bad MCP file,
// or python where bubblewrap cannot run.
agent_tools agent_tools_start(const agent_options & o);

// The CLI's artifacts: files under `dir` (<id>-v<N>.<ext>), said on stdout as they are made.
std::shared_ptr<agent::artifact_store> artifact_files(const std::filesystem::path & dir);

}  // namespace muse::cli
