#include "store/migrations.h"

#include <array>

namespace muse::store {

namespace {

// Append only: a released migration never changes, a change is a new entry.
constexpr std::array<const char *, 6> k_migrations = {
    // 1: users, keys, conversations and messages, files, memory, audit.
    R"sql(
CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    admin      INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE api_keys (
    id           TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    salt         BLOB    NOT NULL,
    hash         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    revoked      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_user ON api_keys(user_id);
CREATE TABLE conversations (
    id         TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    title      TEXT    NOT NULL,
    metadata   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX conversations_user ON conversations(user_id, updated_at);
CREATE TABLE messages (
    id              TEXT    PRIMARY KEY,
    conversation_id TEXT    NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role            TEXT    NOT NULL,
    content         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages(conversation_id);
CREATE TABLE files (
    id         TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    filename   TEXT    NOT NULL,
    purpose    TEXT    NOT NULL,
    bytes      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX files_user ON files(user_id);
CREATE TABLE memory (
    id         TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX memory_user ON memory(user_id);
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    action     TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX audit_user ON audit(user_id);
)sql",
    // 2: the agent's records: Responses API responses (previous_response_id), artifacts.
    R"sql(
CREATE TABLE responses (
    id          TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    workspace   TEXT    NOT NULL,
    previous_id TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    history     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX responses_user ON responses(user_id);
CREATE TABLE artifacts (
    id         TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    workspace  TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    content    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX artifacts_workspace ON artifacts(user_id, workspace);
)sql",
    // 3: retrieval. The user's files and conversations cut into chunks (byte spans of the
    // source's text; a conversation's spans are into one message's text, `message_id`), each
    // with an optional float32 embedding, a BM25 index over their text, memory embeddings and
    // per-user settings. AUTOINCREMENT: a chunk id once cited never names another chunk.
    // The triggers keep the FTS index and the chunks in step with their sources in the same
    // statement, so no path that deletes a file or a conversation can leave its text findable.
    R"sql(
CREATE TABLE chunks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    source_kind TEXT    NOT NULL CHECK (source_kind IN ('file', 'conversation')),
    source_id   TEXT    NOT NULL,
    message_id  TEXT    NOT NULL DEFAULT '',
    title       TEXT    NOT NULL,
    start_byte  INTEGER NOT NULL,
    end_byte    INTEGER NOT NULL,
    text        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    embedding   BLOB,
    dims        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX chunks_source ON chunks(user_id, source_kind, source_id);
CREATE INDEX chunks_vectors ON chunks(user_id, dims);
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    text, content = 'chunks', content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO chunks_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER files_chunks_delete AFTER DELETE ON files BEGIN
    DELETE FROM chunks WHERE user_id = old.user_id AND source_kind = 'file' AND source_id = old.id;
END;
CREATE TRIGGER conversations_chunks_delete AFTER DELETE ON conversations BEGIN
    DELETE FROM chunks WHERE user_id = old.user_id AND source_kind = 'conversation' AND source_id = old.id;
END;
ALTER TABLE memory ADD COLUMN embedding BLOB;
ALTER TABLE memory ADD COLUMN dims INTEGER NOT NULL DEFAULT 0;
CREATE TABLE user_settings (
    user_id        INTEGER PRIMARY KEY REFERENCES users(id),
    memory_enabled INTEGER NOT NULL DEFAULT 1
);
)sql",
    // 4: the safety audit. Structured columns for refusals, guard verdicts and tool calls (what
    // was checked where, the verdict, a SHA-256 of the content; the content itself only when
    // the operator turned that on), an index for retention and time queries, and the store's
    // own settings (audit_retention_days, audit_content). Old rows keep `action` as their kind.
    R"sql(
ALTER TABLE audit ADD COLUMN kind           TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN point          TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN category       TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN verdict_action TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN source         TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN route          TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN digest         TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN content        TEXT;
UPDATE audit SET kind = action;
CREATE INDEX audit_created ON audit(created_at);
CREATE TABLE store_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
)sql",
    // 5: conversations as trees, so a regenerate or an edit keeps every branch. Each message has
    // the message it follows (`parent_id`, NULL for a first one) and each conversation the leaf
    // the user is on (`current_id`, NULL while it has no messages). Rows written before were
    // linear: a message follows the one before it, and the last one is current.
    R"sql(
ALTER TABLE messages ADD COLUMN parent_id TEXT;
UPDATE messages SET parent_id = (
    SELECT p.id FROM messages p
    WHERE p.conversation_id = messages.conversation_id AND p.rowid < messages.rowid
    ORDER BY p.rowid DESC LIMIT 1
);
CREATE INDEX messages_parent ON messages(conversation_id, parent_id);
ALTER TABLE conversations ADD COLUMN current_id TEXT;
UPDATE conversations SET current_id = (
    SELECT m.id FROM messages m WHERE m.conversation_id = conversations.id ORDER BY m.rowid DESC LIMIT 1
);
)sql",
    // 6: the web app's browser sessions. `id` is BLAKE2b-256 of the cookie's token (hex): the
    // token itself is never stored. A session is valid until expires_at and while the key it
    // was signed in with (key_id) is not revoked. Keys get an optional name (the Me page's).
    R"sql(
CREATE TABLE sessions (
    id           TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    key_id       TEXT    NOT NULL REFERENCES api_keys(id),
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);
ALTER TABLE api_keys ADD COLUMN name TEXT NOT NULL DEFAULT '';
)sql",
};

int user_version(sqlite_connection & conn) {
    sqlite_statement st(conn, "PRAGMA user_version");
    return st.step() ? (int)st.column_int(0) : 0;
}

}  // namespace

int migrations_latest() {
    return (int)k_migrations.size();
}

int migrations_apply(sqlite_connection & conn) {
    int version = user_version(conn);
    if (version > migrations_latest()) {
        throw store_error("the store database " + conn.path() + " has schema version " + std::to_string(version) +
                          ", newer than this muse understands (" + std::to_string(migrations_latest()) +
                          "); run a newer muse, or pass --data-dir DIR to use another store");
    }
    while (version < migrations_latest()) {
        sqlite_transaction tx(conn);
        // Read again inside the write lock: another process may have migrated meanwhile.
        version = user_version(conn);
        if (version >= migrations_latest())
            break;
        conn.exec(k_migrations[version]);
        conn.exec("PRAGMA user_version = " + std::to_string(version + 1));
        tx.commit();
        version++;
    }
    return version;
}

}  // namespace muse::store
