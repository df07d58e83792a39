#include "server/web-assets.h"

#include "server/http-error.h"
#include "server/web-etag.h"
#include "server/web-mime.h"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sodium.h>
#include <zlib.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <optional>

namespace muse::server {

namespace {

constexpr const char * k_csp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; frame-src 'self'; media-src 'self' blob: data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// What one request is answered with.
struct web_file {
    std::string  path;
    std::string  mime;
    std::string  etag;
    const char * gzip = nullptr;  // embedded: the gzip'd bytes
    size_t       gzip_size = 0;
    std::string  bytes;           // from disk: the bytes
};

bool starts_with(const std::string & s, const char * prefix) { return s.rfind(prefix, 0) == 0; }

bool is_api_path(const std::string & path) {
    return path == "/v1" || starts_with(path, "/v1/") || path == "/health" || path == "/metrics";
}

bool has_extension(const std::string & path) {
    const size_t slash = path.rfind('/');
    return path.find('.', slash == std::string::npos ? 0 : slash) != std::string::npos;
}

// A token of a comma-separated header, its parameters (";q=0") cut off: whether it is accepted.
bool accepts_gzip(const std::string & header) {
    size_t pos = 0;
    while (pos <= header.size()) {
        size_t end = header.find(',', pos);
        if (end == std::string::npos) end = header.size();
        std::string part = header.substr(pos, end - pos);
        pos = end + 1;
        std::string q;
        if (const size_t semi = part.find(';'); semi != std::string::npos) {
            q = part.substr(semi + 1);
            part.resize(semi);
        }
        part.erase(0, part.find_first_not_of(" \t"));
        part.erase(part.find_last_not_of(" \t") + 1);
        for (char & c : part) c = (char) std::tolower((unsigned char) c);
        if (part != "gzip" && part != "x-gzip" && part != "*") continue;
        q.erase(0, q.find_first_not_of(" \t"));
        if (starts_with(q, "q=")) {
            const std::string v = q.substr(2);
            if (v.find_first_not_of("0. \t") == std::string::npos) return false;  // q=0, q=0.000
        }
        return true;
    }
    return false;
}

bool etag_matches(const std::string & header, const std::string & etag) {
    size_t pos = 0;
    while (pos <= header.size()) {
        size_t end = header.find(',', pos);
        if (end == std::string::npos) end = header.size();
        std::string tag = header.substr(pos, end - pos);
        pos = end + 1;
        tag.erase(0, tag.find_first_not_of(" \t"));
        tag.erase(tag.find_last_not_of(" \t") + 1);
        if (starts_with(tag, "W/")) tag.erase(0, 2);
        if (tag == "*" || tag == etag) return true;
    }
    return false;
}

// RAII over an inflate stream: a gzip member to its bytes.
std::string gunzip(const char * data, size_t size, size_t inflated_size) {
    struct stream {
        z_stream z{};
        stream() {
            if (inflateInit2(&z, 15 + 16) != Z_OK) throw std::runtime_error("zlib's inflateInit2 failed");
        }
        ~stream() { inflateEnd(&z); }
    } s;
    std::string out(inflated_size, '\0');
    s.z.next_in   = reinterpret_cast<Bytef *>(const_cast<char *>(data));
    s.z.avail_in  = (uInt) size;
    s.z.next_out  = reinterpret_cast<Bytef *>(out.data());
    s.z.avail_out = (uInt) out.size();
    const int rc  = inflate(&s.z, Z_FINISH);
    if (rc != Z_STREAM_END || s.z.total_out != inflated_size) {
        throw std::runtime_error("an embedded web file does not inflate to its size (the build's embed-web output is damaged)");
    }
    return out;
}

std::optional<web_file> embedded_find(std::span<const web_asset> files, const std::string & path) {
    for (const auto & a : files) {
        if (path == a.path) return web_file{ a.path, a.mime, a.etag, a.gzip, a.gzip_size, {} };
    }
    return std::nullopt;
}

// A file under `root` (canonical) by its URL path; nullopt for anything that is not a regular
// file inside it once every symlink and ".." is resolved.
std::optional<web_file> disk_find(const std::filesystem::path & root, const std::string & path) {
    if (path.find('\0') != std::string::npos || path.find('\\') != std::string::npos) return std::nullopt;
    std::error_code             ec;
    const std::filesystem::path real = std::filesystem::canonical(root / std::filesystem::path(path).relative_path(), ec);
    if (ec) return std::nullopt;
    const std::string r = real.string(), top = root.string() + "/";
    if (r.compare(0, top.size(), top) != 0) return std::nullopt;
    if (!std::filesystem::is_regular_file(real, ec)) return std::nullopt;
    std::ifstream in(real, std::ios::binary);
    if (!in) return std::nullopt;
    web_file f;
    f.path  = path;
    f.mime  = web_mime_of(path);
    f.bytes = std::string(std::istreambuf_iterator<char>(in), {});
    f.etag  = web_etag_of(f.bytes);
    return f;
}

void security_headers_set(httplib::Response & res, bool html) {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    if (html) {
        res.set_header("Content-Security-Policy", k_csp);
        res.set_header("X-Frame-Options", "DENY");
    }
}

// Nothing to serve: 503 with how to build the app (HTML for a browser, JSON for a client).
void not_built_write(const httplib::Request & req, httplib::Response & res) {
    const std::string why = "the web app was not built into this muse: run scripts/setup.sh (it runs `npm ci && npm run "
                            "build` in web/), then rebuild muse; or serve built files with `muse serve --web-dir DIR`";
    if (req.get_header_value("Accept").find("application/json") != std::string::npos) {
        throw http_error(503, why, "", "web_app_not_built");
    }
    res.status = 503;
    security_headers_set(res, true);
    res.set_header("Cache-Control", "no-cache");
    res.set_content("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>muse: web app not built</title>"
                    "</head>\n<body><h1>The web app was not built</h1>\n<p>This <code>muse</code> was built without the web "
                    "app's files (<code>web/dist</code>). Run <code>scripts/setup.sh</code> (it runs <code>npm ci &amp;&amp; "
                    "npm run build</code> in <code>web/</code>), then rebuild muse; or serve built files with "
                    "<code>muse serve --web-dir DIR</code>.</p>\n<p>The HTTP API works meanwhile: see "
                    "<code>docs/api.md</code>.</p></body></html>\n",
                    "text/html; charset=utf-8");
}

void bytes_send(httplib::Response & res, std::string bytes, const std::string & mime) {
    auto         body = std::make_shared<const std::string>(std::move(bytes));
    const size_t size = body->size();
    res.set_content_provider(size, mime, [body](size_t offset, size_t length, httplib::DataSink & sink) {
        return sink.write(body->data() + offset, length);
    });
}

}  // namespace

web_app::web_app(const web_config & cfg) : embedded_(web_assets_embedded()) {
    if (cfg.dir.empty()) return;
    std::error_code ec;
    dir_ = std::filesystem::canonical(cfg.dir, ec);
    if (ec || !std::filesystem::is_directory(dir_, ec)) {
        throw std::runtime_error("--web-dir " + cfg.dir + ": not a directory (" +
                                 (ec ? ec.message() : std::string("not a directory")) +
                                 "); give the web app's built files, e.g. web/dist after `npm run build`");
    }
}

std::string web_app::source() const {
    if (!dir_.empty()) return "from " + dir_.string();
    if (embedded_.empty()) return "";
    return "embedded (" + std::to_string(embedded_.size()) + " files)";
}

void web_app::serve(const httplib::Request & req, httplib::Response & res) const {
    const std::string & path = req.path;
    if (is_api_path(path)) throw http_error(404, "no route " + req.method + " " + path + " (see docs/api.md)");
    const auto find = [this](const std::string & p) { return dir_.empty() ? embedded_find(embedded_, p) : disk_find(dir_, p); };

    const bool spa  = path == "/" || (!has_extension(path) && !starts_with(path, "/assets/"));
    auto       file = spa ? find("/index.html") : find(path);
    if (!file && !spa && path != "/index.html") {
        throw http_error(404, "no file " + path + " in the web app", "", "not_found");
    }
    if (!file) return not_built_write(req, res);

    const bool html = starts_with(file->mime, "text/html");
    security_headers_set(res, html);
    res.set_header("ETag", file->etag);
    res.set_header("Cache-Control", starts_with(file->path, "/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
    if (file->gzip) res.set_header("Vary", "Accept-Encoding");
    if (etag_matches(req.get_header_value("If-None-Match"), file->etag)) {
        res.status = 304;
        return;
    }
    // Every body goes out through a content provider, which httplib never compresses on its own
    // (it would gzip an inflated file for "Accept-Encoding: gzip;q=0" too).
    if (!file->gzip) return bytes_send(res, std::move(file->bytes), file->mime);
    if (!accepts_gzip(req.get_header_value("Accept-Encoding"))) {
        for (const auto & a : embedded_) {
            if (file->path == a.path) return bytes_send(res, gunzip(a.gzip, a.gzip_size, a.size), file->mime);
        }
    }
    res.set_header("Content-Encoding", "gzip");
    const char * data = file->gzip;  // static: the generated table
    res.set_content_provider(file->gzip_size, file->mime, [data](size_t offset, size_t length, httplib::DataSink & sink) {
        return sink.write(data + offset, length);
    });
}

}  // namespace muse::server
