// A workspace's files — what the python sandbox wrote to /mnt/data for one conversation or
// response chain: GET /v1/workspaces/{id}/files (the list) and
// GET /v1/workspaces/{id}/files/{path} (the bytes). The caller's own workspaces only; the files
// are read without following links (a sandbox may have planted one), and served so that a
// browser never runs them on the API's origin.
#include "agent/sandbox/dir-walk.h"
#include "agent/sandbox/workspace-read.h"
#include "server/data-routes.h"

namespace muse::server {

using json = nlohmann::json;

namespace {

constexpr size_t max_listed = 1000;
constexpr size_t max_served = 64u << 20;

std::string inline_image_type(const std::string & path) {
    const auto dot = path.rfind('.');
    const std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
    if (ext == "png") return "image/png";
    if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
    if (ext == "gif") return "image/gif";
    if (ext == "webp") return "image/webp";
    return "";
}

std::filesystem::path workspace_of(server_state & st, const caller & who, const std::string & id) {
    try {
        return st.db.workspace_dir(who.id, id);
    } catch (const store::store_error & e) {
        throw http_error(404, "no workspace " + id, "id", "workspace_not_found");
    }
}

}  // namespace

void workspace_routes_add(server_state & st, const route_adder & add) {
    add("GET", R"(/v1/workspaces/([A-Za-z0-9_-]+)/files)", "workspaces", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            const auto dir = workspace_of(st, who, req.matches[1]);
            std::error_code ec;
            if (!std::filesystem::is_directory(std::filesystem::symlink_status(dir, ec))) {
                throw http_error(404, "no workspace " + req.matches[1].str(), "id", "workspace_not_found");
            }
            json       data     = json::array();
            const bool complete = agent::dir_walk(dir, max_listed, 16, [&](const agent::dir_walk_entry & e) {
                if (S_ISREG(e.st.st_mode)) {
                    data.push_back({ { "path", e.path }, { "bytes", (int64_t) e.st.st_size }, { "modified_at", (int64_t) e.st.st_mtime } });
                }
            });
            res.set_content(json{ { "object", "list" }, { "data", std::move(data) }, { "has_more", !complete } }
                                .dump(-1, ' ', false, json::error_handler_t::replace),
                            "application/json");
        });
    add("GET", R"(/v1/workspaces/([A-Za-z0-9_-]+)/files/(.+))", "workspaces", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            const auto        dir  = workspace_of(st, who, req.matches[1]);
            const std::string path = req.matches[2];
            auto              got  = agent::workspace_read(dir, path, max_served);
            if (!got.bytes) {
                throw http_error(got.why.rfind("over", 0) == 0 ? 413 : 404, path + ": " + got.why, "path", "file_not_found");
            }
            const std::string image = inline_image_type(path);
            res.set_header("X-Content-Type-Options", "nosniff");
            res.set_header("Content-Security-Policy", "sandbox; default-src 'none'");
            if (image.empty()) {
                const auto  slash = path.rfind('/');
                std::string name  = path.substr(slash == std::string::npos ? 0 : slash + 1);
                for (char & c : name) {
                    if (c == '"' || c == '\\' || (unsigned char) c < 0x20) c = '_';
                }
                res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
            }
            res.set_content(std::move(*got.bytes), image.empty() ? "application/octet-stream" : image);
        });
}

}  // namespace muse::server
