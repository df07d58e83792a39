#include "agent/sandbox/unique-fd.h"

#include <fcntl.h>

#include <cerrno>
#include <system_error>

namespace muse::agent {

fd_pipe fd_pipe_open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "pipe2");
    return fd_pipe { unique_fd(fds[0]), unique_fd(fds[1]) };
}

}  // namespace muse::agent
