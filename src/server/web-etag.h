#pragma once
// The ETag of a web app file: BLAKE2b-128 of its bytes in hex, quoted as HTTP wants it. One
// definition for the embedded files (the build's tools/embed-web) and --web-dir's files on disk,
// so a file has the same tag whichever way it is served.
#include <sodium.h>

#include <string>

namespace muse::server {

inline std::string web_etag_of(const std::string & bytes) {
    unsigned char h[16];
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size(), nullptr, 0);
    char hex[2 * sizeof h + 1];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    return std::string("\"") + hex + "\"";
}

}  // namespace muse::server
