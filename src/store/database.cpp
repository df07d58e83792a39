// The database's connection and schema, users and memory. Conversations and their messages,
// keys, files, the audit and the privacy calls live in conversations.cpp, keys.cpp, files.cpp,
// audit.cpp and privacy.cpp.
#include <sodium.h>

#include <algorithm>
#include <chrono>

#include "store/database-impl.h"
#include "store/migrations.h"

namespace muse::store {

std::string random_hex(size_t n_bytes) {
    std::string bytes(n_bytes, '\0');
    randombytes_buf(bytes.data(), n_bytes);
    std::string hex(n_bytes * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char *>(bytes.data()), n_bytes);
    hex.pop_back();  // the terminating NUL
    return hex;
}

std::string id_make(const std::string & prefix) {
    return prefix + random_hex(12);
}

int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

user user_from_row(const sqlite_statement & st, int first) {
    user u;
    u.id         = st.column_int(first);
    u.name       = st.column_text(first + 1);
    u.admin      = st.column_int(first + 2) != 0;
    u.created_at = st.column_int(first + 3);
    return u;
}

user user_upsert(sqlite_connection & conn, const std::string & name, bool admin) {
    std::optional<user> found;
    {
        sqlite_statement find(conn, "SELECT id, name, admin, created_at FROM users WHERE name = ?");
        find.bind(1, name);
        if (find.step())
            found = user_from_row(find, 0);
    }
    if (found) {
        user u = *found;
        if (admin && !u.admin) {
            sqlite_statement(conn, "UPDATE users SET admin = 1 WHERE id = ?").bind(1, u.id).run();
            u.admin = true;
        }
        return u;
    }
    user u;
    u.name       = name;
    u.admin      = admin;
    u.created_at = now_seconds();
    sqlite_statement(conn, "INSERT INTO users (name, admin, created_at) VALUES (?, ?, ?)")
        .bind(1, name)
        .bind(2, (int64_t)admin)
        .bind(3, u.created_at)
        .run();
    u.id = sqlite3_last_insert_rowid(conn.get());
    return u;
}

bool user_row_delete(sqlite_connection & conn, const char * table, int64_t user_id, const std::string & id) {
    sqlite_statement(conn, std::string("DELETE FROM ") + table + " WHERE user_id = ? AND id = ?")
        .bind(1, user_id)
        .bind(2, id)
        .run();
    return conn.changes() > 0;
}

namespace {

// The connection's settings, read back where it matters. The first statement that reads the
// file is here, so a damaged file or an unwritable directory surfaces here with its fix.
void connection_configure(sqlite_connection & conn) {
    conn.exec("PRAGMA busy_timeout = 10000");  // `muse keys` and `muse serve` may share the file
    std::string mode;
    try {
        sqlite_statement st(conn, "PRAGMA journal_mode = WAL");
        mode = st.step() ? st.column_text(0) : "";
    } catch (const store_error & e) {
        const int code = sqlite3_errcode(conn.get());
        if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
            throw store_error("the store database " + conn.path() +
                              " is not a SQLite database or is damaged; move it away (muse then starts a new, "
                              "empty store) or pass --data-dir DIR to use another store");
        }
        throw store_error(std::string(e.what()) + "; check that the directory is writable, or pass --data-dir DIR");
    }
    if (mode != "wal") {
        throw store_error("the store database " + conn.path() + " could not switch to WAL mode (it stays in '" + mode +
                          "'); put the data directory on a local file system, or pass --data-dir DIR");
    }
    // WAL with synchronous=FULL syncs the log on every commit: a committed message survives a
    // kill -9 (NORMAL would too) and also a power loss (NORMAL could lose the last commits).
    // Commits are one per finished message or key use a second, so the fsync is affordable.
    conn.exec("PRAGMA synchronous = FULL");
    conn.exec("PRAGMA foreign_keys = ON");
}

}  // namespace

database::database(const std::filesystem::path & data_dir) {
    if (sodium_init() < 0) {
        throw store_error("libsodium failed to initialize (no random source?); muse needs it for keys and ids");
    }
    std::error_code ec;
    const bool      created = std::filesystem::create_directories(data_dir, ec);
    if (ec) {
        throw store_error("cannot create the data directory " + data_dir.string() + ": " + ec.message() +
                          "; pass --data-dir DIR (or set MUSE_DATA_DIR) to a writable directory");
    }
    if (created) {
        // Conversations and files are private: only the owner reads the directory.
        std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all, ec);
    }
    const std::string path = (data_dir / "muse.db").string();
    impl_ = std::make_unique<impl>(data_dir, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX);
    connection_configure(impl_->conn);
    impl_->version = migrations_apply(impl_->conn);
}

database::~database() = default;

int database::schema_version() const {
    return impl_->version;
}

const std::filesystem::path & database::data_dir() const {
    return impl_->data_dir;
}

// --- users

user database::user_get_or_create(const std::string & name, bool admin) {
    std::lock_guard    lock(impl_->mutex);
    sqlite_transaction tx(impl_->conn);
    user               u = user_upsert(impl_->conn, name, admin);
    tx.commit();
    return u;
}

std::optional<user> database::user_find(const std::string & name) {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn, "SELECT id, name, admin, created_at FROM users WHERE name = ?");
    st.bind(1, name);
    if (!st.step())
        return std::nullopt;
    return user_from_row(st, 0);
}

// --- memory

memory_item database::memory_add(int64_t user_id, const std::string & text) {
    return memory_add(user_id, text, std::vector<float>());  // retrieval.cpp: the row with its vector
}

std::vector<memory_item> database::memory_list(int64_t user_id) {
    std::lock_guard  lock(impl_->mutex);
    sqlite_statement st(impl_->conn, "SELECT id, text, created_at FROM memory WHERE user_id = ? ORDER BY rowid");
    st.bind(1, user_id);
    std::vector<memory_item> out;
    while (st.step()) {
        out.push_back({ st.column_text(0), st.column_text(1), st.column_int(2) });
    }
    return out;
}

bool database::memory_delete(int64_t user_id, const std::string & id) {
    std::lock_guard lock(impl_->mutex);
    return user_row_delete(impl_->conn, "memory", user_id, id);
}

}  // namespace muse::store
