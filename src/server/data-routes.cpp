#include "server/data-routes.h"

#include "agent/file-index.h"
#include "server/agent-run.h"
#include "server/json-fields.h"
#include "server/safety-gate.h"
#include "server/wire-util.h"

namespace muse::server {

using json = nlohmann::json;

namespace {

json file_json(const store::file_record & f) {
    return { { "id", f.id }, { "object", "file" }, { "bytes", f.bytes }, { "created_at", f.created_at },
             { "filename", f.filename }, { "purpose", f.purpose }, { "status", "processed" } };
}

json list_json(json data) { return { { "object", "list" }, { "data", std::move(data) } }; }

void json_send(httplib::Response & res, const json & j) {
    res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

}  // namespace

void data_routes_add(server_state & st, const route_adder & add) {
    // --- files
    add("POST", "/v1/files", "files", ROUTE_ACCESS_USER, [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
        if (!req.is_multipart_form_data() || !req.has_file("file")) {
            throw http_error(400, "send the file as multipart/form-data with a 'file' field (and 'purpose')", "file", "missing_file");
        }
        const auto file    = req.get_file_value("file");
        std::string purpose = req.has_file("purpose") ? req.get_file_value("purpose").content : "user_data";
        if (file.content.empty()) throw http_error(400, "the file is empty", "file", "empty_file");
        const std::string name = file.filename.empty() ? "upload" : file.filename;
        // What the file says (its text, a PDF's pages, a picture's OCR): read once, for the policy
        // (before the file is kept) and for the index.
        agent::file_text text = agent::file_text_extract(file.content, name);
        if (st.safety && st.safety->policy_of().check_input) {
            const safety::verdict v = st.safety->check(safety::CHECK_POINT_UPLOAD, text.text);
            safety_audit(st, who, v, safety::CHECK_POINT_UPLOAD, "files", text.text);
            if (v.blocked()) {
                const auto * c = st.safety->policy_of().category_find(v.category);
                throw http_error(422, "the file " + name + " was refused by the server's safety policy (" + v.category +
                                          (c ? " " + c->name : std::string()) + "); it was not stored",
                                 "file", "content_policy");
            }
        }
        const auto        rec  = st.db.file_put(who.id, name, purpose, file.content);
        // Indexed before the answer, so that a file_search right after finds it. A file that
        // cannot be indexed (a full disk) is not kept either: the client was told it failed.
        agent::file_index_result idx;
        try {
            idx = agent::file_index(st.db, who.id, rec, std::move(text), agent_embed_fn(st));
        } catch (...) {
            try {
                st.db.file_delete(who.id, rec.id);
            } catch (const std::exception & e) {
                fprintf(stderr, "muse serve: the unindexed file %s stays listed: %s\n", rec.id.c_str(), e.what());
            }
            throw;
        }
        json out = file_json(rec);
        out["muse"] = { { "kind", idx.extracted.kind }, { "chunks", idx.chunks }, { "embedded", idx.vectors } };
        if (!idx.extracted.note.empty()) out["muse"]["note"] = idx.extracted.note;
        json_send(res, out);
    });
    add("GET", "/v1/files", "files", ROUTE_ACCESS_USER, [&st](const httplib::Request &, httplib::Response & res, const caller & who) {
        json data = json::array();
        for (const auto & f : st.db.file_list(who.id)) data.push_back(file_json(f));
        json_send(res, list_json(data));
    });
    add("GET", R"(/v1/files/([^/]+))", "files", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            auto f = st.db.file_get(who.id, req.matches[1]);
            if (!f) throw http_error(404, "no file " + req.matches[1].str(), "file_id", "file_not_found");
            json_send(res, file_json(*f));
        });
    add("GET", R"(/v1/files/([^/]+)/content)", "files", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            auto bytes = st.db.file_read(who.id, req.matches[1]);
            if (!bytes) throw http_error(404, "no file " + req.matches[1].str(), "file_id", "file_not_found");
            res.set_content(*bytes, "application/octet-stream");
        });
    add("DELETE", R"(/v1/files/([^/]+))", "files", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            if (!st.db.file_delete(who.id, req.matches[1])) {
                throw http_error(404, "no file " + req.matches[1].str(), "file_id", "file_not_found");
            }
            json_send(res, { { "id", req.matches[1].str() }, { "object", "file" }, { "deleted", true } });
        });

    conversation_routes_add(st, add);

    // --- memory
    add("GET", "/v1/memory", "memory", ROUTE_ACCESS_USER, [&st](const httplib::Request &, httplib::Response & res, const caller & who) {
        json data = json::array();
        for (const auto & m : st.db.memory_list(who.id)) {
            data.push_back({ { "id", m.id }, { "object", "memory" }, { "text", m.text }, { "created_at", m.created_at } });
        }
        json_send(res, list_json(data));
    });
    add("POST", "/v1/memory", "memory", ROUTE_ACCESS_USER, [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
        const std::string text = str_field(body_json(req), "text", "", true);
        if (text.empty() || text.size() > 8192) throw http_error(400, "text must be 1 to 8192 bytes", "text");
        std::vector<float> vec;
        if (auto embed = agent_embed_fn(st)) {
            try {
                vec = embed({ text })[0];
            } catch (const std::exception &) {
                // Over the embedding model's context: the item is found by its words.
            }
        }
        const auto m = st.db.memory_add(who.id, text, vec);
        json_send(res, { { "id", m.id }, { "object", "memory" }, { "text", m.text }, { "created_at", m.created_at } });
    });
    // Whether the user's memory is used at all (on until turned off): {"enabled": bool}.
    add("GET", "/v1/memory/settings", "memory", ROUTE_ACCESS_USER,
        [&st](const httplib::Request &, httplib::Response & res, const caller & who) {
            json_send(res, { { "object", "memory.settings" }, { "enabled", st.db.memory_enabled(who.id) } });
        });
    add("POST", "/v1/memory/settings", "memory", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            const json body = body_json(req);
            if (!body.is_object() || !body.contains("enabled") || !body["enabled"].is_boolean()) {
                throw http_error(400, "send {\"enabled\": true} or {\"enabled\": false}", "enabled");
            }
            st.db.memory_enabled_set(who.id, body["enabled"].get<bool>());
            json_send(res, { { "object", "memory.settings" }, { "enabled", st.db.memory_enabled(who.id) } });
        });
    add("DELETE", R"(/v1/memory/([^/]+))", "memory", ROUTE_ACCESS_USER,
        [&st](const httplib::Request & req, httplib::Response & res, const caller & who) {
            if (!st.db.memory_delete(who.id, req.matches[1])) {
                throw http_error(404, "no memory item " + req.matches[1].str(), "memory_id", "memory_not_found");
            }
            json_send(res, { { "id", req.matches[1].str() }, { "object", "memory.deleted" }, { "deleted", true } });
        });

    // --- privacy
    add("GET", "/v1/me/export", "me", ROUTE_ACCESS_USER, [&st](const httplib::Request &, httplib::Response & res, const caller & who) {
        st.db.audit_add(who.id, "export", "{}");
        res.set_header("Content-Disposition", "attachment; filename=\"muse-export.json\"");
        res.set_content(st.db.user_export(who.id), "application/json");
    });
    add("DELETE", "/v1/me", "me", ROUTE_ACCESS_USER, [&st](const httplib::Request &, httplib::Response & res, const caller & who) {
        st.db.user_delete(who.id);
        st.sched.cache_forget(std::to_string(who.id));  // every cached cell of theirs, in memory and on disk
        json_send(res, { { "object", "user.deleted" }, { "user", who.name }, { "deleted", true } });
    });
}

}  // namespace muse::server
