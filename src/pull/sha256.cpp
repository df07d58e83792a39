#include "pull/sha256.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "pull/download.h"
#include "pull/unique-fd.h"

namespace muse::pull {

sha256_stream::sha256_stream() {
    if (sodium_init() < 0) {
        throw download_error("libsodium failed to initialize, so downloads cannot be verified");
    }
    reset();
}

void sha256_stream::reset() {
    crypto_hash_sha256_init(&state_);
    bytes_ = 0;
}

void sha256_stream::update(const void * data, size_t n) {
    crypto_hash_sha256_update(&state_, (const unsigned char *)data, n);
    bytes_ += n;
}

std::string sha256_stream::hex_digest() {
    crypto_hash_sha256_state copy = state_;
    unsigned char            digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&copy, digest);
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    return hex;
}

bool sha256_hex_valid(const std::string & s) {
    if (s.size() != 64) {
        return false;
    }
    for (unsigned char c : s) {
        if (!std::isxdigit(c)) {
            return false;
        }
    }
    return true;
}

bool sha256_stream::update_from_fd(int fd, uint64_t size) {
    std::string buf(1 << 20, '\0');
    uint64_t    off = 0;
    while (off < size) {
        const ssize_t n = pread(fd, buf.data(), (size_t)std::min<uint64_t>(buf.size(), size - off), (off_t)off);
        if (n <= 0) {
            return false;
        }
        update(buf.data(), (size_t)n);
        off += (uint64_t)n;
    }
    return true;
}

std::string file_sha256(const std::string & path) {
    unique_fd   fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || fstat(fd.get(), &st) != 0) {
        throw download_error("cannot read '" + path + "' to check its sha256: check that it exists and is readable");
    }
    sha256_stream hash;
    if (!hash.update_from_fd(fd.get(), (uint64_t)st.st_size)) {
        throw download_error("reading '" + path + "' failed while checking its sha256: check the disk");
    }
    return hash.hex_digest();
}

}  // namespace muse::pull
