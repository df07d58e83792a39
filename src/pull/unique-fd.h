#pragma once
// RAII over a POSIX file descriptor.
#include <unistd.h>

namespace muse::pull {

class unique_fd {
  public:
    explicit unique_fd(int fd = -1) : fd_(fd) {}
    ~unique_fd() { reset(); }
    unique_fd(const unique_fd &)             = delete;
    unique_fd & operator=(const unique_fd &) = delete;
    int         get() const { return fd_; }
    explicit    operator bool() const { return fd_ >= 0; }

    void reset(int fd = -1) {
        if (fd_ >= 0) {
            close(fd_);
        }
        fd_ = fd;
    }

    int release() {
        const int fd = fd_;
        fd_          = -1;
        return fd;
    }

  private:
    int fd_;
};

}  // namespace muse::pull
