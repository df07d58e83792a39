#pragma once
// Base64 (RFC 4648, the standard alphabet) decoding of what servers send: image and audio data.
#include <optional>
#include <string>
#include <string_view>

namespace muse::agent {

// The bytes, or nullopt for text that is not base64. Padding is optional; whitespace is skipped.
std::optional<std::string> mcp_base64_decode(std::string_view text);

}  // namespace muse::agent
