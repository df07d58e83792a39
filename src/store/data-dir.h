#pragma once
// Where muse keeps its store when no --data-dir is given (muse serve, muse keys).
#include <filesystem>

namespace muse::store {

// $MUSE_DATA_DIR, else $HOME/.local/share/muse. Throws store_error when neither is set.
std::filesystem::path data_dir_default();

}  // namespace muse::store
