#pragma once
// An owned file descriptor (closed when it goes) and an owned pipe. Every descriptor the sandbox
// opens is close-on-exec, so that a tool running elsewhere in the process (another thread's
// fork) never inherits the write end of our pipes and keeps them from reaching end-of-file.
#include <unistd.h>

#include <utility>

namespace muse::agent {

class unique_fd {
  public:
    unique_fd() = default;
    explicit unique_fd(int fd) : fd_(fd) {}
    ~unique_fd() { reset(); }
    unique_fd(unique_fd && other) noexcept : fd_(other.release()) {}
    unique_fd & operator=(unique_fd && other) noexcept {
        if (this != &other)
            reset(other.release());
        return *this;
    }
    unique_fd(const unique_fd &)             = delete;
    unique_fd & operator=(const unique_fd &) = delete;

    int  get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int  release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

  private:
    int fd_ = -1;
};

struct fd_pipe {
    unique_fd read;
    unique_fd write;
};

// A close-on-exec pipe; throws std::system_error when the process is out of descriptors.
fd_pipe fd_pipe_open();

}  // namespace muse::agent
