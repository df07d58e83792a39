#pragma once
// Thin RAII over the sqlite3 C API: a connection, a prepared statement, a transaction.
// Every failure throws store_error with SQLite's message and the database's path.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/database.h"

namespace muse::store {

class sqlite_connection {
  public:
    // flags: sqlite3_open_v2's (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | ...).
    sqlite_connection(const std::string & path, int flags);

    sqlite3 *           get() const { return db_.get(); }
    const std::string & path() const { return path_; }

    // Runs one or more statements that return no rows we need.
    void    exec(const std::string & sql);
    int64_t changes() const { return sqlite3_changes64(db_.get()); }

    // A store_error: "<what>: <sqlite message> (database <path>)".
    [[noreturn]] void fail(const std::string & what) const;

  private:
    struct closer {
        void operator()(sqlite3 * db) const { sqlite3_close_v2(db); }
    };
    std::unique_ptr<sqlite3, closer> db_;
    std::string                      path_;
};

class sqlite_statement {
  public:
    sqlite_statement(sqlite_connection & conn, std::string_view sql);

    // Binds by 1-based position; returns *this so binds chain.
    sqlite_statement & bind(int index, int64_t value);
    sqlite_statement & bind(int index, const std::string & value);
    sqlite_statement & bind_blob(int index, const void * data, size_t size);
    sqlite_statement & bind_null(int index);

    // True when a row is ready to read; false when the statement is done.
    bool step();
    // Steps a statement that returns no rows.
    void run();

    int64_t     column_int(int index) const;
    std::string column_text(int index) const;
    std::string column_blob(int index) const;
    bool        column_is_null(int index) const;

  private:
    struct finalizer {
        void operator()(sqlite3_stmt * s) const { sqlite3_finalize(s); }
    };
    sqlite_connection &                      conn_;
    std::unique_ptr<sqlite3_stmt, finalizer> stmt_;
};

// BEGIN IMMEDIATE on construction (takes the write lock up front, so two writers never
// deadlock upgrading a read lock); ROLLBACK on destruction unless commit() ran.
class sqlite_transaction {
  public:
    explicit sqlite_transaction(sqlite_connection & conn);
    ~sqlite_transaction();
    sqlite_transaction(const sqlite_transaction &)             = delete;
    sqlite_transaction & operator=(const sqlite_transaction &) = delete;

    void commit();

  private:
    sqlite_connection & conn_;
    bool                done_ = false;
};

}  // namespace muse::store
