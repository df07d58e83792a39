#include "store/data-dir.h"

#include <cstdlib>

#include "store/database.h"

namespace muse::store {

std::filesystem::path data_dir_default() {
    if (const char * dir = std::getenv("MUSE_DATA_DIR"); dir && *dir) {
        return dir;
    }
    if (const char * home = std::getenv("HOME"); home && *home) {
        return std::filesystem::path(home) / ".local" / "share" / "muse";
    }
    throw store_error(
        "neither MUSE_DATA_DIR nor HOME is set, so muse has no default data directory; "
        "pass --data-dir DIR or set MUSE_DATA_DIR");
}

}  // namespace muse::store
