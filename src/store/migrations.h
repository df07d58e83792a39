#pragma once
// The store's schema as numbered migrations; PRAGMA user_version records how many ran.
#include "store/sqlite.h"

namespace muse::store {

// The schema version this binary writes: the number of migrations it knows.
int migrations_latest();

// Applies every migration newer than the database's user_version, each in its own
// transaction together with its version bump. Returns the resulting version. Throws
// store_error when the database is newer than this binary.
int migrations_apply(sqlite_connection & conn);

}  // namespace muse::store
