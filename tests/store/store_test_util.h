#pragma once
// Helpers for the store tests: a temporary data directory and direct SQL on the database file.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "store/database.h"
#include "store/sqlite.h"

namespace muse::test {

// A fresh directory under $TMPDIR, removed with everything in it.
class temp_dir {
  public:
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "muse-store-XXXXXX").string();
        if (!mkdtemp(tmpl.data()))
            throw std::runtime_error("mkdtemp failed for " + tmpl);
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir &)             = delete;
    temp_dir & operator=(const temp_dir &) = delete;

    const std::filesystem::path & path() const { return path_; }
    std::filesystem::path         db_path() const { return path_ / "muse.db"; }

  private:
    std::filesystem::path path_;
};

// One value from a query on the database file, opened directly (beside the store's own connection).
inline std::string sql_text(const std::filesystem::path & db_path, const std::string & sql) {
    store::sqlite_connection conn(db_path.string(), SQLITE_OPEN_READWRITE);
    store::sqlite_statement  st(conn, sql);
    return st.step() ? st.column_text(0) : std::string();
}

inline int64_t sql_int(const std::filesystem::path & db_path, const std::string & sql) {
    store::sqlite_connection conn(db_path.string(), SQLITE_OPEN_READWRITE);
    store::sqlite_statement  st(conn, sql);
    return st.step() ? st.column_int(0) : -1;
}

// Undoes migration 6 (browser sessions, key names) on a closed store, so that it is what a v5
// muse wrote; older migrations' tests undo this one first.
inline void store_back_to_v5(const std::filesystem::path & db_path) {
    store::sqlite_connection conn(db_path.string(), SQLITE_OPEN_READWRITE);
    conn.exec("DROP TABLE sessions; ALTER TABLE api_keys DROP COLUMN name; PRAGMA user_version = 5;");
}

// Undoes migrations 6 and 5 (messages' parent_id, conversations' current_id) on a closed store,
// so that it is what a v4 muse wrote; older migrations' tests undo this one first.
inline void store_back_to_v4(const std::filesystem::path & db_path) {
    store_back_to_v5(db_path);
    store::sqlite_connection conn(db_path.string(), SQLITE_OPEN_READWRITE);
    conn.exec("DROP INDEX messages_parent; ALTER TABLE messages DROP COLUMN parent_id; "
              "ALTER TABLE conversations DROP COLUMN current_id; PRAGMA user_version = 4");
}

// Undoes migrations 6, 5 and 4 (the audit's structured columns, store_settings) on a closed
// store, so that it is what a v3 muse wrote; older migrations' tests undo this one first.
inline void store_back_to_v3(const std::filesystem::path & db_path) {
    store_back_to_v4(db_path);
    store::sqlite_connection conn(db_path.string(), SQLITE_OPEN_READWRITE);
    conn.exec("DROP INDEX audit_created; DROP TABLE store_settings;");
    for (const char * column : { "kind", "point", "category", "verdict_action", "source", "route", "digest", "content" }) {
        conn.exec(std::string("ALTER TABLE audit DROP COLUMN ") + column);
    }
    conn.exec("PRAGMA user_version = 3");
}

inline std::string file_bytes(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace muse::test
