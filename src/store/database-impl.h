#pragma once
// What the database's member files share: the connection, its lock, and small helpers.
#include <mutex>
#include <string>

#include "store/database.h"
#include "store/sqlite.h"
#include "store/vector-index.h"

namespace muse::store {

struct database::impl {
    std::filesystem::path data_dir;
    sqlite_connection     conn;
    int                   version = 0;
    // One connection for every thread: each call holds the lock for its whole transaction.
    std::mutex mutex;
    // Each user's chunk vectors for nearest-neighbour search (retrieval.cpp), under `mutex`.
    vector_index_set vectors;

    impl(const std::filesystem::path & dir, const std::string & db_path, int flags) :
        data_dir(dir), conn(db_path, flags) {}
};

// prefix + 24 random hex characters (12 bytes from libsodium).
std::string id_make(const std::string & prefix);
// Lowercase hex of n random bytes.
std::string random_hex(size_t n_bytes);
// Unix seconds now.
int64_t now_seconds();

// The caller holds impl::mutex. Finds the user by name, creating it; `admin` promotes an
// existing user (never demotes).
user user_upsert(sqlite_connection & conn, const std::string & name, bool admin);
// The caller holds impl::mutex. Deletes the row `id` of `table` when it is the user's; false
// when there is none. `table` is one of the schema's names, never input.
bool user_row_delete(sqlite_connection & conn, const char * table, int64_t user_id, const std::string & id);
// The caller holds impl::mutex and a transaction. Indexes a just-appended message's text
// (its content string or text parts; user and assistant messages) as conversation chunks.
void message_chunks_add(sqlite_connection & conn, int64_t user_id, const message & m);
// The user's text as an FTS5 expression that cannot be a syntax error: each word a quoted
// string (never an operator, a column filter or a prefix), any of them matching. "" when the
// text has no words (retrieval.cpp).
std::string fts_expression(const std::string & query);
// "<kind>:<source id>": the unit in which vector_index_set removes a source's vectors.
std::string chunk_source_key(chunk_source source, const std::string & source_id);
// Reads a user from columns (first, first+1, first+2, first+3) = id, name, admin, created_at.
user user_from_row(const sqlite_statement & st, int first);

}  // namespace muse::store
