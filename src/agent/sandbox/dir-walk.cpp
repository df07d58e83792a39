#include "agent/sandbox/dir-walk.h"

#include <dirent.h>
#include <fcntl.h>

#include <cstring>
#include <memory>
#include <vector>

#include "agent/sandbox/unique-fd.h"

namespace muse::agent {

namespace {

struct dir_closer {
    void operator()(DIR * d) const { ::closedir(d); }
};

using dir_ptr = std::unique_ptr<DIR, dir_closer>;

struct walk_state {
    size_t                                              left;
    int                                                 max_depth;
    const std::function<void(const dir_walk_entry &)> & visit;
    bool                                                complete = true;
};

// `fd` is owned: fdopendir takes it over.
void walk_dir(int fd, const std::string & prefix, int depth, walk_state & ws) {
    dir_ptr dir(::fdopendir(fd));
    if (!dir) {
        ::close(fd);
        return;
    }
    const int dfd = ::dirfd(dir.get());
    while (const dirent * e = ::readdir(dir.get())) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0)
            continue;
        if (ws.left == 0) {
            ws.complete = false;
            return;
        }
        --ws.left;
        struct stat st;
        if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        const std::string path = prefix.empty() ? std::string(e->d_name) : prefix + "/" + e->d_name;
        ws.visit(dir_walk_entry { dfd, e->d_name, path, st });
        if (!S_ISDIR(st.st_mode))
            continue;
        if (depth + 1 >= ws.max_depth) {
            ws.complete = false;
            continue;
        }
        const int child = ::openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child >= 0)
            walk_dir(child, path, depth + 1, ws);
    }
}

}  // namespace

bool dir_walk(const std::filesystem::path & root, size_t max_entries, int max_depth,
              const std::function<void(const dir_walk_entry &)> & visit) {
    const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return true;
    walk_state ws { max_entries, max_depth, visit };
    walk_dir(fd, "", 0, ws);
    return ws.complete;
}

}  // namespace muse::agent
