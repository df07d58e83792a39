// Fuzz target: what an MCP server sends back, one message (a stdio line or an HTTP body):
// jsonrpc_parse (the depth limit), jsonrpc_classify, jsonrpc_response_id, jsonrpc_error_text,
// jsonrpc_dump, and mcp_tool_result_from on the message's result (text blocks, base64 images,
// resources, isError) with a small text cap. Everything is hostile: nothing may throw.
#include "agent/mcp/base64.h"
#include "agent/mcp/json-rpc.h"
#include "agent/mcp/tool-result.h"

#include <cstdlib>
#include <string_view>

using namespace muse::agent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    const std::string_view text((const char *) data, size);
    (void) mcp_base64_decode(text);
    const std::optional<nlohmann::json> msg = jsonrpc_parse(text);
    if (!msg) return 0;
    const jsonrpc_kind kind = jsonrpc_classify(*msg);
    (void) jsonrpc_response_id(*msg);
    const std::string line = jsonrpc_dump(*msg);
    if (line.find('\n') != std::string::npos) abort();  // one message per line on stdio
    if (kind == JSONRPC_KIND_RESPONSE && msg->contains("error")) (void) jsonrpc_error_text((*msg)["error"]);
    const nlohmann::json & result = msg->is_object() && msg->contains("result") ? (*msg)["result"] : *msg;
    const tool_result r = mcp_tool_result_from(result, "fuzz.tool", 512);
    (void) r;
    (void) mcp_text_capped(std::string(text), 100);
    return 0;
}
