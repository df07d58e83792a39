#include "agent/mcp/base64.h"

#include <cstdint>

namespace muse::agent {

namespace {

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

}  // namespace

std::optional<std::string> mcp_base64_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size() / 4 * 3);
    uint32_t bits    = 0;  // pending bits, high first
    int      n_bits  = 0;
    size_t   n_chars = 0;  // data characters seen
    size_t   n_pad   = 0;
    for (char c : text) {
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            continue;
        }
        if (c == '=') {
            n_pad++;
            continue;
        }
        int v = base64_value(c);
        if (v < 0 || n_pad > 0) {
            return std::nullopt;  // a foreign character, or data after the padding
        }
        n_chars++;
        bits = (bits << 6) | uint32_t(v);
        n_bits += 6;
        if (n_bits >= 8) {
            n_bits -= 8;
            out.push_back(char((bits >> n_bits) & 0xFF));
        }
    }
    // One character alone cannot hold a byte; padding must complete the last group.
    if (n_chars % 4 == 1 || n_pad > 2 || (n_pad > 0 && (n_chars + n_pad) % 4 != 0)) {
        return std::nullopt;
    }
    return out;
}

}  // namespace muse::agent
