#pragma once
// An MCP tools/call result as the agent's tool_result: text blocks become the text, images
// (base64) become tool_images, embedded resources and resource links become lines of text,
// isError becomes is_error. The result is hostile JSON: a wrong type is skipped, never thrown.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/tool.h"

namespace muse::agent {

constexpr size_t MCP_TOOL_TEXT_CAP = 64 * 1024;

// `name_prefix` starts the images' names ("everything.get-tiny-image" → "...-1.png").
tool_result mcp_tool_result_from(const nlohmann::json & result, const std::string & name_prefix,
                                 size_t text_cap = MCP_TOOL_TEXT_CAP);

// The first `cap` bytes of `text` cut at a character's start, with a note saying what was cut.
std::string mcp_text_capped(const std::string & text, size_t cap);

}  // namespace muse::agent
