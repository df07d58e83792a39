#include "store/migrations.h"

#include <array>

namespace muse::store {

namespace {

// Append only: a released migration never changes, a change is a new entry.
constexpr std::array<const char *, 2> k_migrations = {
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
