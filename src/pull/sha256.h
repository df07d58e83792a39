#pragma once
// Streaming sha256 (libsodium), fed as the bytes arrive so that a multi-GiB model is not read twice.
#include <sodium.h>

#include <cstdint>
#include <string>

namespace muse::pull {

class sha256_stream {
  public:
    sha256_stream();
    void reset();
    void update(const void * data, size_t n);
    // Feeds the first `size` bytes of an open file; false when they cannot all be read.
    bool        update_from_fd(int fd, uint64_t size);
    std::string hex_digest();  // of what was fed so far; the stream stays usable
    uint64_t    bytes() const { return bytes_; }

  private:
    crypto_hash_sha256_state state_;
    uint64_t                 bytes_ = 0;
};

// True for 64 hex digits (either case).
bool sha256_hex_valid(const std::string & s);

}  // namespace muse::pull
