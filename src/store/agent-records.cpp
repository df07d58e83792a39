// The agent's records: Responses API responses and versioned artifacts, both scoped to their
// user, and the workspace directories that hold each chain's or conversation's files.
#include "store/database-impl.h"

namespace muse::store {

namespace {

bool workspace_name_ok(const std::string & w) {
    if (w.empty() || w.size() > 64) return false;
    for (char c : w) {
        if (!(std::isalnum((unsigned char) c) || c == '_' || c == '-')) return false;
    }
    return true;
}

artifact_record artifact_from_row(const sqlite_statement & st) {
    artifact_record a;
    a.id         = st.column_text(0);
    a.version    = (int) st.column_int(1);
    a.workspace  = st.column_text(2);
    a.title      = st.column_text(3);
    a.type       = st.column_text(4);
    a.content    = st.column_text(5);
    a.created_at = st.column_int(6);
    return a;
}

}  // namespace

std::filesystem::path database::workspace_dir(int64_t user_id, const std::string & workspace) const {
    if (!workspace_name_ok(workspace)) {
        throw store_error("'" + workspace + "' is not a workspace id (letters, digits, '_' and '-', at most 64)");
    }
    return impl_->data_dir / "workspaces" / std::to_string(user_id) / workspace;
}

void database::response_put(int64_t user_id, const response_record & r) {
    std::lock_guard lock(impl_->mutex);
    sqlite_statement(impl_->conn,
                     "INSERT OR REPLACE INTO responses (id, user_id, workspace, previous_id, body, history, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, r.id)
        .bind(2, user_id)
        .bind(3, r.workspace)
        .bind(4, r.previous_id)
        .bind(5, r.body)
        .bind(6, r.history)
        .bind(7, r.created_at ? r.created_at : now_seconds())
        .run();
}

std::optional<response_record> database::response_get(int64_t user_id, const std::string & id) {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn,
                        "SELECT id, workspace, previous_id, body, history, created_at FROM responses WHERE user_id = ? AND id = ?");
    st.bind(1, user_id).bind(2, id);
    if (!st.step()) return std::nullopt;
    return response_record{ st.column_text(0), st.column_text(1), st.column_text(2),
                            st.column_text(3), st.column_text(4), st.column_int(5) };
}

bool database::response_delete(int64_t user_id, const std::string & id) {
    std::lock_guard lock(impl_->mutex);
    return user_row_delete(impl_->conn, "responses", user_id, id);
}

std::optional<artifact_record> database::artifact_put(int64_t user_id, const std::string & workspace, const std::string & id,
                                                      const std::string & title, const std::string & type,
                                                      const std::string & content) {
    artifact_record a;
    a.workspace  = workspace;
    a.title      = title;
    a.type       = type;
    a.content    = content;
    a.created_at = now_seconds();
    std::lock_guard    lock(impl_->mutex);
    sqlite_transaction tx(impl_->conn);
    if (id.empty()) {
        a.id      = id_make("art_");
        a.version = 1;
    } else {
        sqlite_statement st(impl_->conn,
                            "SELECT MAX(version) FROM artifacts WHERE user_id = ? AND workspace = ? AND id = ?");
        st.bind(1, user_id).bind(2, workspace).bind(3, id);
        if (!st.step() || st.column_int(0) == 0) return std::nullopt;
        a.id      = id;
        a.version = (int) st.column_int(0) + 1;
    }
    sqlite_statement(impl_->conn,
                     "INSERT INTO artifacts (id, version, user_id, workspace, title, type, content, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(1, a.id)
        .bind(2, (int64_t) a.version)
        .bind(3, user_id)
        .bind(4, workspace)
        .bind(5, title)
        .bind(6, type)
        .bind(7, content)
        .bind(8, a.created_at)
        .run();
    tx.commit();
    return a;
}

std::optional<artifact_record> database::artifact_get(int64_t user_id, const std::string & id, int version) {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn,
                        version > 0 ? "SELECT id, version, workspace, title, type, content, created_at FROM artifacts "
                                      "WHERE user_id = ? AND id = ? AND version = ?"
                                    : "SELECT id, version, workspace, title, type, content, created_at FROM artifacts "
                                      "WHERE user_id = ? AND id = ? ORDER BY version DESC LIMIT 1");
    st.bind(1, user_id).bind(2, id);
    if (version > 0) st.bind(3, (int64_t) version);
    if (!st.step()) return std::nullopt;
    return artifact_from_row(st);
}

std::vector<artifact_record> database::artifact_list(int64_t user_id, const std::string & workspace) {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn,
                        "SELECT id, MAX(version), workspace, title, type, '', MIN(created_at) FROM artifacts "
                        "WHERE user_id = ? AND workspace = ? GROUP BY id ORDER BY MIN(created_at), id");
    st.bind(1, user_id).bind(2, workspace);
    std::vector<artifact_record> out;
    while (st.step()) out.push_back(artifact_from_row(st));
    return out;
}

}  // namespace muse::store
