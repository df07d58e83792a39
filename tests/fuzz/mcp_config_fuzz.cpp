// Fuzz target: the --mcp config file (the mcpServers JSON of Claude Desktop and llama-server).
// A bad file is an input_error naming the file, the server and the fix; nothing else escapes.
#include "agent/mcp/config.h"
#include "engine/error.h"

#include <cstdlib>

using namespace muse::agent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    try {
        for (const mcp_server_config & c : mcp_config_parse(std::string((const char *) data, size), "mcp.json")) {
            if (c.name.empty()) abort();
            (void) mcp_server_target(c);
        }
    } catch (const muse::input_error &) {
    }
    return 0;
}
