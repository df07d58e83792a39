#pragma once
// Walks a directory tree that a sandbox can write to, without ever following a symbolic link:
// each level is opened relative to its parent's descriptor with O_NOFOLLOW, so a sandbox that
// swaps a directory for a link to /etc while the host walks (a concurrent call on the same
// work dir) cannot point the walk, or a chown made from it, at the host's files.
#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>

namespace muse::agent {

// One entry: the descriptor of its directory and its name there (for *at() calls), its path
// relative to the root ('/'-separated) and its lstat.
struct dir_walk_entry {
    int                 dir_fd;
    const char *        name;
    const std::string & path;
    const struct stat & st;
};

// Calls `visit` for every entry under `root` (not the root itself), depth first, at most
// `max_entries` of them and `max_depth` levels down. Returns false when a cap cut the walk
// short. A root that cannot be opened (missing, a link) has no entries.
bool dir_walk(const std::filesystem::path & root, size_t max_entries, int max_depth,
              const std::function<void(const dir_walk_entry &)> & visit);

}  // namespace muse::agent
