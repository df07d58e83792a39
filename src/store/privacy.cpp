// The privacy calls: everything about a user as one JSON document, and deleting all of it.
#include <nlohmann/json.hpp>

#include "store/database-impl.h"

namespace muse::store {

namespace {

using json = nlohmann::json;

// Stored JSON text as JSON; text that does not parse (never written by muse) stays a string.
json json_or_text(const std::string & text) {
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    return j.is_discarded() ? json(text) : j;
}

}  // namespace

std::string database::user_export(int64_t user_id) {
    std::lock_guard     lock(impl_->mutex);
    sqlite_connection & conn = impl_->conn;
    // One read transaction: the document is one consistent snapshot.
    conn.exec("BEGIN");
    struct end_read {
        sqlite_connection & conn;
        ~end_read() { sqlite3_exec(conn.get(), "COMMIT", nullptr, nullptr, nullptr); }
    } end { conn };

    json doc = json::object();
    {
        sqlite_statement st(conn, "SELECT name, created_at, admin FROM users WHERE id = ?");
        st.bind(1, user_id);
        if (st.step()) {
            doc["user"] = { { "name", st.column_text(0) },
                            { "created_at", st.column_int(1) },
                            { "admin", st.column_int(2) != 0 } };
        } else {
            doc["user"] = nullptr;
        }
    }
    doc["keys"] = json::array();
    {
        sqlite_statement st(conn,
                            "SELECT id, created_at, last_used_at, revoked, name FROM api_keys WHERE user_id = ? "
                            "ORDER BY created_at, rowid");
        st.bind(1, user_id);
        while (st.step()) {
            doc["keys"].push_back({ { "id", st.column_text(0) },
                                    { "name", st.column_text(4) },
                                    { "created_at", st.column_int(1) },
                                    { "last_used_at", st.column_int(2) },
                                    { "revoked", st.column_int(3) != 0 } });
        }
    }
    doc["sessions"] = json::array();
    {
        sqlite_statement st(conn,
                            "SELECT id, key_id, created_at, expires_at, last_seen_at FROM sessions WHERE user_id = ? "
                            "ORDER BY created_at, rowid");
        st.bind(1, user_id);
        while (st.step()) {
            doc["sessions"].push_back({ { "id", st.column_text(0) },
                                        { "key_id", st.column_text(1) },
                                        { "created_at", st.column_int(2) },
                                        { "expires_at", st.column_int(3) },
                                        { "last_seen_at", st.column_int(4) } });
        }
    }
    doc["conversations"] = json::array();
    {
        sqlite_statement st(conn,
                            "SELECT id, title, metadata, created_at, updated_at FROM conversations WHERE user_id = ? "
                            "ORDER BY created_at, rowid");
        st.bind(1, user_id);
        while (st.step()) {
            json             c = { { "id", st.column_text(0) },
                                   { "title", st.column_text(1) },
                                   { "metadata", json_or_text(st.column_text(2)) },
                                   { "created_at", st.column_int(3) },
                                   { "updated_at", st.column_int(4) },
                                   { "messages", json::array() } };
            sqlite_statement msgs(conn,
                                  "SELECT m.id, m.role, m.content, m.created_at FROM messages m "
                                  "JOIN conversations c ON c.id = m.conversation_id "
                                  "WHERE c.user_id = ? AND m.conversation_id = ? ORDER BY m.rowid");
            msgs.bind(1, user_id).bind(2, c["id"].get<std::string>());
            while (msgs.step()) {
                c["messages"].push_back({ { "id", msgs.column_text(0) },
                                          { "role", msgs.column_text(1) },
                                          { "content", json_or_text(msgs.column_text(2)) },
                                          { "created_at", msgs.column_int(3) } });
            }
            doc["conversations"].push_back(std::move(c));
        }
    }
    doc["files"] = json::array();
    {
        sqlite_statement st(conn,
                            "SELECT id, filename, purpose, bytes, created_at FROM files WHERE user_id = ? "
                            "ORDER BY created_at, rowid");
        st.bind(1, user_id);
        while (st.step()) {
            doc["files"].push_back({ { "id", st.column_text(0) },
                                     { "filename", st.column_text(1) },
                                     { "purpose", st.column_text(2) },
                                     { "bytes", st.column_int(3) },
                                     { "created_at", st.column_int(4) } });
        }
    }
    doc["memory"] = json::array();
    {
        sqlite_statement st(conn, "SELECT id, text, created_at FROM memory WHERE user_id = ? ORDER BY rowid");
        st.bind(1, user_id);
        while (st.step()) {
            doc["memory"].push_back(
                { { "id", st.column_text(0) }, { "text", st.column_text(1) }, { "created_at", st.column_int(2) } });
        }
    }
    {
        sqlite_statement st(conn, "SELECT memory_enabled FROM user_settings WHERE user_id = ?");
        st.bind(1, user_id);
        doc["settings"] = { { "memory_enabled", !st.step() || st.column_int(0) != 0 } };
    }
    doc["audit"] = json::array();
    {
        sqlite_statement st(conn, "SELECT action, detail, created_at, kind, point, category, verdict_action, source, "
                                  "route, digest, content FROM audit WHERE user_id = ? ORDER BY rowid");
        st.bind(1, user_id);
        while (st.step()) {
            doc["audit"].push_back({ { "action", st.column_text(0) },
                                     { "detail", json_or_text(st.column_text(1)) },
                                     { "created_at", st.column_int(2) },
                                     { "kind", st.column_text(3) },
                                     { "point", st.column_text(4) },
                                     { "category", st.column_text(5) },
                                     { "verdict_action", st.column_text(6) },
                                     { "source", st.column_text(7) },
                                     { "route", st.column_text(8) },
                                     { "digest", st.column_text(9) },
                                     { "content", st.column_is_null(10) ? json(nullptr) : json(st.column_text(10)) } });
        }
    }
    doc["responses"] = json::array();
    {
        sqlite_statement st(conn, "SELECT body FROM responses WHERE user_id = ? ORDER BY created_at, id");
        st.bind(1, user_id);
        while (st.step()) doc["responses"].push_back(json_or_text(st.column_text(0)));
    }
    doc["artifacts"] = json::array();
    {
        sqlite_statement st(conn, "SELECT id, version, workspace, title, type, content, created_at FROM artifacts "
                                  "WHERE user_id = ? ORDER BY created_at, id, version");
        st.bind(1, user_id);
        while (st.step()) {
            doc["artifacts"].push_back({ { "id", st.column_text(0) }, { "version", st.column_int(1) },
                                         { "workspace", st.column_text(2) }, { "title", st.column_text(3) },
                                         { "type", st.column_text(4) }, { "content", st.column_text(5) },
                                         { "created_at", st.column_int(6) } });
        }
    }
    // Replace, not throw, on invalid UTF-8: an export must never fail on one odd message.
    return doc.dump(2, ' ', false, json::error_handler_t::replace);
}

void database::user_delete(int64_t user_id) {
    {
        std::lock_guard    lock(impl_->mutex);
        sqlite_transaction tx(impl_->conn);
        for (const char * sql : {
                 "DELETE FROM messages WHERE conversation_id IN (SELECT id FROM conversations WHERE user_id = ?)",
                 "DELETE FROM conversations WHERE user_id = ?",
                 "DELETE FROM files WHERE user_id = ?",
                 "DELETE FROM memory WHERE user_id = ?",
                 "DELETE FROM audit WHERE user_id = ?",
                 "DELETE FROM responses WHERE user_id = ?",
                 "DELETE FROM artifacts WHERE user_id = ?",
                 "DELETE FROM chunks WHERE user_id = ?",
                 "DELETE FROM user_settings WHERE user_id = ?",
                 "DELETE FROM sessions WHERE user_id = ?",
                 "DELETE FROM api_keys WHERE user_id = ?",
                 "DELETE FROM users WHERE id = ?",
             }) {
            sqlite_statement(impl_->conn, sql).bind(1, user_id).run();
        }
        tx.commit();
        impl_->vectors.drop(user_id);
    }
    for (const char * kind : { "files", "workspaces" }) {
        const std::filesystem::path dir = impl_->data_dir / kind / std::to_string(user_id);
        std::error_code             ec;
        std::filesystem::remove_all(dir, ec);
        if (ec) {
            throw store_error("deleted the user's records but not their files in " + dir.string() + ": " +
                              ec.message() + "; remove that directory by hand");
        }
    }
}

}  // namespace muse::store
