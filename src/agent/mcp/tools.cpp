#include "agent/mcp/tools.h"

#include "agent/mcp/error.h"
#include "agent/mcp/json-rpc.h"
#include "agent/mcp/tool-result.h"

namespace muse::agent {

namespace {

std::string tool_name_part(const std::string & part) {
    std::string out = part;
    for (char & c : out) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) {
            c = '_';
        }
    }
    return out;
}

const char * tool_error_kind(mcp_error_kind kind) {
    switch (kind) {
        case MCP_ERROR_KIND_TRANSPORT:
            return "transport";
        case MCP_ERROR_KIND_TIMEOUT:
            return "timeout";
        case MCP_ERROR_KIND_CANCELLED:
            return "cancelled";
        case MCP_ERROR_KIND_SERVER:
            return "server";
        case MCP_ERROR_KIND_PROTOCOL:
            return "protocol";
    }
    return "unknown";
}

}  // namespace

std::string mcp_tool_name(const std::string & server, const std::string & tool) {
    return tool_name_part(server) + "." + tool_name_part(tool);
}

mcp_tool::mcp_tool(std::shared_ptr<mcp_client> client, mcp_tool_info info) :
    client_(std::move(client)), info_(std::move(info)), name_(mcp_tool_name(client_->config().name, info_.name)) {}

chat_tool mcp_tool::definition() const {
    chat_tool out;
    out.name        = name_;
    out.description = info_.description.empty() ? info_.title : info_.description;
    out.parameters  = jsonrpc_dump(info_.input_schema);
    return out;
}

tool_result mcp_tool::call(const nlohmann::json & arguments, const tool_context & ctx) {
    const nlohmann::json detail = { { "server", client_->config().name }, { "tool", info_.name } };
    if (!arguments.is_null() && !arguments.is_object()) {
        tool_result out;
        out.text     = name_ + ": the arguments must be a JSON object, not " + std::string(arguments.type_name());
        out.is_error = true;
        out.detail   = detail;
        return out;
    }
    try {
        nlohmann::json result = client_->tools_call(info_.name, arguments, ctx.deadline, ctx.cancel);
        tool_result    out    = mcp_tool_result_from(result, name_);
        out.detail            = detail;
        return out;
    } catch (const mcp_error & e) {
        tool_result out;
        out.text = name_ + " failed: " + e.what();
        if (e.kind == MCP_ERROR_KIND_TRANSPORT && client_->config().type == MCP_TRANSPORT_TYPE_STDIO) {
            out.text += " (the next call starts the server again)";
        }
        out.text            = mcp_text_capped(out.text, MCP_TOOL_TEXT_CAP);
        out.is_error        = true;
        out.detail          = detail;
        out.detail["error"] = tool_error_kind(e.kind);
        return out;
    }
}

}  // namespace muse::agent
