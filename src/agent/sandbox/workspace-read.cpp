#include "agent/sandbox/workspace-read.h"

#include "agent/sandbox/unique-fd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace muse::agent {

workspace_read_result workspace_read(const std::filesystem::path & root, const std::string & relative, size_t max_bytes) {
    workspace_read_result r;
    std::vector<std::string> parts;
    size_t                   start = 0;
    while (start <= relative.size()) {
        const size_t end  = relative.find('/', start);
        std::string  part = relative.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string::npos) {
            r.why = "not a relative path inside the workspace";
            return r;
        }
        parts.push_back(std::move(part));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    unique_fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid()) {
        r.why = "no such file";
        return r;
    }
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        unique_fd next(::openat(dir.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next.valid()) {
            r.why = errno == ELOOP || errno == ENOTDIR ? "not a regular file" : "no such file";
            return r;
        }
        dir = std::move(next);
    }
    // O_NONBLOCK: a FIFO planted under the name must not block the open.
    unique_fd f(::openat(dir.get(), parts.back().c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!f.valid()) {
        r.why = errno == ELOOP ? "not a regular file" : "no such file";
        return r;
    }
    struct stat st {};
    if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        r.why = "not a regular file";
        return r;
    }
    if ((uint64_t) st.st_size > max_bytes) {
        r.why = "over " + std::to_string(max_bytes) + " bytes";
        return r;
    }
    std::string bytes((size_t) st.st_size, '\0');
    size_t      got = 0;
    while (got < bytes.size()) {
        const ssize_t n = ::read(f.get(), bytes.data() + got, bytes.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t) n;
    }
    bytes.resize(got);
    r.bytes = std::move(bytes);
    return r;
}

}  // namespace muse::agent
