#pragma once
// The Content-Type of a web app file by its extension: for the embedded files (the build's
// tools/embed-web) and for --web-dir's files on disk alike.
#include <string_view>

namespace muse::server {

inline const char * web_mime_of(std::string_view path) {
    const size_t slash = path.rfind('/');
    const size_t dot   = path.rfind('.');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return "application/octet-stream";
    const std::string_view ext = path.substr(dot + 1);
    struct entry {
        std::string_view ext;
        const char *     mime;
    };
    static constexpr entry k_types[] = {
        { "html", "text/html; charset=utf-8" },   { "htm", "text/html; charset=utf-8" },
        { "js", "text/javascript; charset=utf-8" }, { "mjs", "text/javascript; charset=utf-8" },
        { "css", "text/css; charset=utf-8" },     { "json", "application/json" },
        { "map", "application/json" },            { "webmanifest", "application/manifest+json" },
        { "svg", "image/svg+xml" },               { "png", "image/png" },
        { "jpg", "image/jpeg" },                  { "jpeg", "image/jpeg" },
        { "gif", "image/gif" },                   { "webp", "image/webp" },
        { "ico", "image/x-icon" },                { "woff2", "font/woff2" },
        { "woff", "font/woff" },                  { "ttf", "font/ttf" },
        { "wasm", "application/wasm" },           { "txt", "text/plain; charset=utf-8" },
    };
    for (const auto & e : k_types) {
        if (e.ext == ext) return e.mime;
    }
    return "application/octet-stream";
}

}  // namespace muse::server
