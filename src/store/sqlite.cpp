#include "store/sqlite.h"

namespace muse::store {

sqlite_connection::sqlite_connection(const std::string & path, int flags) : path_(path) {
    sqlite3 * raw = nullptr;
    const int rc  = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    db_.reset(raw);  // sqlite3_open_v2 returns a handle to close even when it fails
    if (rc != SQLITE_OK) {
        const std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
        throw store_error("cannot open the store database " + path + ": " + msg +
                          "; check that the directory exists and is writable, or pass --data-dir DIR");
    }
    sqlite3_extended_result_codes(raw, 1);
}

void sqlite_connection::fail(const std::string & what) const {
    throw store_error(what + ": " + sqlite3_errmsg(db_.get()) + " (database " + path_ + ")");
}

void sqlite_connection::exec(const std::string & sql) {
    char *    err = nullptr;
    const int rc  = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        const std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw store_error("'" + sql.substr(0, 60) + "' failed: " + msg + " (database " + path_ + ")");
    }
}

sqlite_statement::sqlite_statement(sqlite_connection & conn, std::string_view sql) : conn_(conn) {
    sqlite3_stmt * raw = nullptr;
    if (sqlite3_prepare_v2(conn.get(), sql.data(), (int)sql.size(), &raw, nullptr) != SQLITE_OK) {
        conn.fail("preparing '" + std::string(sql.substr(0, 60)) + "'");
    }
    stmt_.reset(raw);
}

sqlite_statement & sqlite_statement::bind(int index, int64_t value) {
    if (sqlite3_bind_int64(stmt_.get(), index, value) != SQLITE_OK) {
        conn_.fail("binding parameter " + std::to_string(index));
    }
    return *this;
}

sqlite_statement & sqlite_statement::bind(int index, const std::string & value) {
    if (sqlite3_bind_text64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8) !=
        SQLITE_OK) {
        conn_.fail("binding parameter " + std::to_string(index));
    }
    return *this;
}

sqlite_statement & sqlite_statement::bind_blob(int index, const void * data, size_t size) {
    if (sqlite3_bind_blob64(stmt_.get(), index, data, size, SQLITE_TRANSIENT) != SQLITE_OK) {
        conn_.fail("binding parameter " + std::to_string(index));
    }
    return *this;
}

sqlite_statement & sqlite_statement::bind_null(int index) {
    if (sqlite3_bind_null(stmt_.get(), index) != SQLITE_OK) {
        conn_.fail("binding parameter " + std::to_string(index));
    }
    return *this;
}

bool sqlite_statement::step() {
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    conn_.fail(std::string("running '") + std::string(sqlite3_sql(stmt_.get())).substr(0, 60) + "'");
}

void sqlite_statement::run() {
    while (step()) {
    }
}

int64_t sqlite_statement::column_int(int index) const {
    return sqlite3_column_int64(stmt_.get(), index);
}

std::string sqlite_statement::column_text(int index) const {
    const auto * text = reinterpret_cast<const char *>(sqlite3_column_text(stmt_.get(), index));
    return text ? std::string(text, (size_t)sqlite3_column_bytes(stmt_.get(), index)) : std::string();
}

std::string sqlite_statement::column_blob(int index) const {
    const auto * data = static_cast<const char *>(sqlite3_column_blob(stmt_.get(), index));
    return data ? std::string(data, (size_t)sqlite3_column_bytes(stmt_.get(), index)) : std::string();
}

bool sqlite_statement::column_is_null(int index) const {
    return sqlite3_column_type(stmt_.get(), index) == SQLITE_NULL;
}

sqlite_transaction::sqlite_transaction(sqlite_connection & conn) : conn_(conn) {
    conn_.exec("BEGIN IMMEDIATE");
}

sqlite_transaction::~sqlite_transaction() {
    if (!done_) {
        // Best effort: after some errors SQLite has already rolled back on its own.
        sqlite3_exec(conn_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void sqlite_transaction::commit() {
    conn_.exec("COMMIT");
    done_ = true;
}

}  // namespace muse::store
