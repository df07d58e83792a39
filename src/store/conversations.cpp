// Conversations and their messages: a tree per conversation (each message has the one it
// follows), the branch the user is on, paths and siblings, updates and search.
#include <algorithm>
#include <map>
#include <stdexcept>

#include "store/database-impl.h"

namespace muse::store {

namespace {

constexpr const char * k_conversation_columns =
    "SELECT id, user_id, title, metadata, created_at, updated_at, coalesce(current_id, '') FROM conversations";

constexpr const char * k_message_columns =
    "SELECT m.id, m.conversation_id, m.role, m.content, m.created_at, coalesce(m.parent_id, '') FROM messages m";

// Newest first: by updated_at, then (within its second) by the latest message stored.
constexpr const char * k_newest_first =
    "ORDER BY updated_at DESC, coalesce((SELECT max(m.rowid) FROM messages m WHERE m.conversation_id = conversations.id), 0) DESC, "
    "rowid DESC";

// A branch is at most this deep: a parent chain longer than any conversation (max_messages)
// could ever be is a damaged row, not a reason to loop.
constexpr int k_path_depth_max = 100000;

conversation conversation_from_row(const sqlite_statement & st) {
    conversation c;
    c.id         = st.column_text(0);
    c.user_id    = st.column_int(1);
    c.title      = st.column_text(2);
    c.metadata   = st.column_text(3);
    c.created_at = st.column_int(4);
    c.updated_at = st.column_int(5);
    c.current_id = st.column_text(6);
    return c;
}

message message_from_row(const sqlite_statement & st) {
    message m;
    m.id              = st.column_text(0);
    m.conversation_id = st.column_text(1);
    m.role            = st.column_text(2);
    m.content         = st.column_text(3);
    m.created_at      = st.column_int(4);
    m.parent_id       = st.column_text(5);
    return m;
}

// The caller holds impl::mutex.
std::optional<conversation> conversation_read(sqlite_connection & conn, int64_t user_id, const std::string & id) {
    sqlite_statement st(conn, std::string(k_conversation_columns) + " WHERE user_id = ? AND id = ?");
    st.bind(1, user_id).bind(2, id);
    if (!st.step()) return std::nullopt;
    return conversation_from_row(st);
}

// The caller holds impl::mutex. Whether `message_id` is a message of the conversation.
bool message_in(sqlite_connection & conn, const std::string & conversation_id, const std::string & message_id) {
    sqlite_statement st(conn, "SELECT 1 FROM messages WHERE id = ? AND conversation_id = ?");
    st.bind(1, message_id).bind(2, conversation_id);
    return st.step();
}

// The caller holds impl::mutex. Appends under `parent_id` ("" for a first message; nullopt
// for the conversation's current message) and makes the new message current.
std::optional<message> message_insert(sqlite_connection & conn, int64_t user_id, const std::string & conversation_id,
                                      const std::optional<std::string> & parent_id, const std::string & role,
                                      const std::string & content_json) {
    message m;
    m.id              = id_make("msg_");
    m.conversation_id = conversation_id;
    m.role            = role;
    m.content         = content_json;
    m.created_at      = now_seconds();
    sqlite_transaction tx(conn);
    const auto         c = conversation_read(conn, user_id, conversation_id);
    if (!c) return std::nullopt;  // not the user's conversation (the transaction rolls back)
    m.parent_id = parent_id ? *parent_id : c->current_id;
    if (!m.parent_id.empty() && !message_in(conn, conversation_id, m.parent_id)) {
        throw std::invalid_argument("the message " + m.parent_id + " is not in the conversation " + conversation_id +
                                    "; pass one of its message ids (GET /v1/conversations/" + conversation_id + ")");
    }
    sqlite_statement(conn, "UPDATE conversations SET updated_at = ?, current_id = ? WHERE id = ?")
        .bind(1, m.created_at)
        .bind(2, m.id)
        .bind(3, conversation_id)
        .run();
    sqlite_statement insert(conn,
                            "INSERT INTO messages (id, conversation_id, role, content, created_at, parent_id) "
                            "VALUES (?, ?, ?, ?, ?, ?)");
    insert.bind(1, m.id).bind(2, m.conversation_id).bind(3, m.role).bind(4, m.content).bind(5, m.created_at);
    if (m.parent_id.empty()) {
        insert.bind_null(6);
    } else {
        insert.bind(6, m.parent_id);
    }
    insert.run();
    message_chunks_add(conn, user_id, m);  // searchable from the same commit on
    tx.commit();
    return m;
}

// `text` for a LIKE pattern that matches it anywhere, with '\' as the escape character.
std::string like_anywhere(const std::string & text) {
    std::string out = "%";
    for (char ch : text) {
        if (ch == '%' || ch == '_' || ch == '\\') out += '\\';
        out += ch;
    }
    return out + "%";
}

}  // namespace

conversation database::conversation_create(int64_t user_id, const std::string & title,
                                           const std::string & metadata_json) {
    conversation c;
    c.id         = id_make("conv_");
    c.user_id    = user_id;
    c.title      = title;
    c.metadata   = metadata_json.empty() ? "{}" : metadata_json;
    c.created_at = now_seconds();
    c.updated_at = c.created_at;
    std::lock_guard lock(impl_->mutex);
    sqlite_statement(impl_->conn,
                     "INSERT INTO conversations (id, user_id, title, metadata, created_at, updated_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)")
        .bind(1, c.id)
        .bind(2, c.user_id)
        .bind(3, c.title)
        .bind(4, c.metadata)
        .bind(5, c.created_at)
        .bind(6, c.updated_at)
        .run();
    return c;
}

std::vector<conversation> database::conversation_list(int64_t user_id, int limit) {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn, std::string(k_conversation_columns) +
                                         " WHERE user_id = ? " + std::string(k_newest_first) + " LIMIT ?");
    st.bind(1, user_id).bind(2, (int64_t) std::max(limit, 0));
    std::vector<conversation> out;
    while (st.step()) {
        out.push_back(conversation_from_row(st));
    }
    return out;
}

std::optional<conversation> database::conversation_get(int64_t user_id, const std::string & id) {
    std::lock_guard lock(impl_->mutex);
    return conversation_read(impl_->conn, user_id, id);
}

bool database::conversation_delete(int64_t user_id, const std::string & id) {
    {
        std::lock_guard    lock(impl_->mutex);
        sqlite_transaction tx(impl_->conn);
        // The messages go with it (ON DELETE CASCADE); its artifacts and files too.
        if (!user_row_delete(impl_->conn, "conversations", user_id, id)) return false;
        sqlite_statement(impl_->conn, "DELETE FROM artifacts WHERE user_id = ? AND workspace = ?").bind(1, user_id).bind(2, id).run();
        tx.commit();
        // Its chunks went with the row (a trigger, migration 3); their vectors leave the index.
        impl_->vectors.remove_source(user_id, chunk_source_key(CHUNK_SOURCE_CONVERSATION, id));
    }
    std::error_code ec;
    std::filesystem::remove_all(workspace_dir(user_id, id), ec);
    if (ec) {
        throw store_error("deleted the conversation " + id + " but not its files in " + workspace_dir(user_id, id).string() +
                          ": " + ec.message() + "; remove that directory by hand");
    }
    return true;
}

std::optional<conversation> database::conversation_update(int64_t user_id, const std::string & id,
                                                          const conversation_changes & changes) {
    std::lock_guard    lock(impl_->mutex);
    sqlite_transaction tx(impl_->conn);
    auto               c = conversation_read(impl_->conn, user_id, id);
    if (!c) return std::nullopt;
    if (changes.current_id && !message_in(impl_->conn, id, *changes.current_id)) {
        throw std::invalid_argument("the message " + *changes.current_id + " is not in the conversation " + id +
                                    "; pass one of its message ids (GET /v1/conversations/" + id + ")");
    }
    if (changes.title) c->title = *changes.title;
    if (changes.metadata) c->metadata = changes.metadata->empty() ? "{}" : *changes.metadata;
    if (changes.current_id) c->current_id = *changes.current_id;
    c->updated_at = std::max(now_seconds(), c->updated_at);
    sqlite_statement st(impl_->conn,
                        "UPDATE conversations SET title = ?, metadata = ?, current_id = ?, updated_at = ? WHERE id = ?");
    st.bind(1, c->title).bind(2, c->metadata);
    if (c->current_id.empty()) {
        st.bind_null(3);
    } else {
        st.bind(3, c->current_id);
    }
    st.bind(4, c->updated_at).bind(5, id).run();
    tx.commit();
    return c;
}

std::vector<conversation_hit> database::conversation_search(int64_t user_id, const std::string & query, int limit) {
    std::vector<conversation_hit> out;
    if (limit <= 0 || query.empty()) return out;
    std::lock_guard            lock(impl_->mutex);
    sqlite_connection &        conn = impl_->conn;
    std::map<std::string, std::string> snippets;  // conversation id -> its best match's words
    if (const std::string expr = fts_expression(query); !expr.empty()) {
        // Best match first, so the first snippet a conversation gets is its best one.
        sqlite_statement st(conn,
                            "SELECT c.source_id, snippet(chunks_fts, 0, '', '', '…', 16) FROM chunks_fts "
                            "JOIN chunks c ON c.id = chunks_fts.rowid "
                            "WHERE chunks_fts MATCH ? AND c.user_id = ? AND c.source_kind = 'conversation' "
                            "ORDER BY bm25(chunks_fts), c.id LIMIT 1000");
        st.bind(1, expr).bind(2, user_id);
        while (st.step()) snippets.emplace(st.column_text(0), st.column_text(1));
    }
    // The title test is SQLite's LIKE (ASCII case-insensitive), column 7 of each of the user's
    // conversations, newest first.
    sqlite_statement st(conn, std::string("SELECT id, user_id, title, metadata, created_at, updated_at, coalesce(current_id, ''), "
                                          "title LIKE ? ESCAPE '\\' FROM conversations WHERE user_id = ? ") +
                                  k_newest_first);
    st.bind(1, like_anywhere(query)).bind(2, user_id);
    while ((int) out.size() < limit && st.step()) {
        const auto found = snippets.find(st.column_text(0));
        if (found == snippets.end() && st.column_int(7) == 0) continue;
        out.push_back({ conversation_from_row(st), found == snippets.end() ? std::string() : found->second });
    }
    return out;
}

std::optional<message> database::message_append(int64_t user_id, const std::string & conversation_id,
                                                const std::string & role, const std::string & content_json) {
    std::lock_guard lock(impl_->mutex);
    return message_insert(impl_->conn, user_id, conversation_id, std::nullopt, role, content_json);
}

std::optional<message> database::message_append_under(int64_t user_id, const std::string & conversation_id,
                                                      const std::string & parent_id, const std::string & role,
                                                      const std::string & content_json) {
    std::lock_guard lock(impl_->mutex);
    return message_insert(impl_->conn, user_id, conversation_id, parent_id, role, content_json);
}

std::vector<message> database::message_list(int64_t user_id, const std::string & conversation_id) {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn, std::string(k_message_columns) +
                                         " JOIN conversations c ON c.id = m.conversation_id "
                                         "WHERE c.user_id = ? AND m.conversation_id = ? ORDER BY m.rowid");
    st.bind(1, user_id).bind(2, conversation_id);
    std::vector<message> out;
    while (st.step()) {
        out.push_back(message_from_row(st));
    }
    return out;
}

std::vector<message> database::message_path(int64_t user_id, const std::string & conversation_id,
                                            const std::string & message_id) {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn,
                        "WITH RECURSIVE path(id, depth) AS ("
                        " SELECT m.id, 0 FROM messages m JOIN conversations c ON c.id = m.conversation_id"
                        " WHERE m.id = ? AND m.conversation_id = ? AND c.user_id = ?"
                        " UNION ALL"
                        " SELECT m.parent_id, p.depth + 1 FROM messages m JOIN path p ON m.id = p.id"
                        " WHERE m.parent_id IS NOT NULL AND p.depth < ?) " +
                            std::string(k_message_columns) +
                            " JOIN path ON path.id = m.id WHERE m.conversation_id = ? ORDER BY path.depth DESC");
    st.bind(1, message_id).bind(2, conversation_id).bind(3, user_id).bind(4, (int64_t) k_path_depth_max);
    st.bind(5, conversation_id);
    std::vector<message> out;
    while (st.step()) {
        out.push_back(message_from_row(st));
    }
    return out;
}

std::vector<message> database::message_siblings(int64_t user_id, const std::string & conversation_id,
                                                const std::string & message_id) {
    std::lock_guard  lock(impl_->mutex);
    // `IS`: first messages (a NULL parent) are siblings of each other.
    sqlite_statement st(impl_->conn,
                        std::string(k_message_columns) +
                            " JOIN messages self ON self.id = ? AND self.conversation_id = m.conversation_id"
                            " JOIN conversations c ON c.id = m.conversation_id"
                            " WHERE m.conversation_id = ? AND c.user_id = ? AND m.parent_id IS self.parent_id"
                            " ORDER BY m.rowid");
    st.bind(1, message_id).bind(2, conversation_id).bind(3, user_id);
    std::vector<message> out;
    while (st.step()) {
        out.push_back(message_from_row(st));
    }
    return out;
}

}  // namespace muse::store
