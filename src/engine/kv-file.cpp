#include "engine/kv-file.h"

#include "engine/error.h"

#include <cstring>
#include <fstream>

namespace muse {

namespace {

constexpr char     k_magic[8]    = { 'M', 'U', 'S', 'E', 'K', 'V', '1', '\0' };
constexpr uint32_t k_max_string  = 1u << 16;
constexpr uint32_t k_max_tokens  = 1u << 24;

void put_u32(std::string & out, uint32_t v) { out.append((const char *) &v, 4); }
void put_u64(std::string & out, uint64_t v) { out.append((const char *) &v, 8); }

// Reads the fixed part: magic, fingerprint, owner, tag, tokens, data length. `file_size` bounds
// the lengths before anything is allocated for them (a 30-byte file claiming 16M tokens made
// every read allocate and zero 64 MB: the fuzz target kv_file ran at 40 inputs a second).
bool header_read(std::istream & in, uint64_t fingerprint, uint64_t file_size, kv_file_header & h, std::string & raw) {
    const auto read = [&](void * dst, size_t n) {
        if (!in.read((char *) dst, (std::streamsize) n)) return false;
        raw.append((const char *) dst, n);
        return true;
    };
    char     magic[8];
    uint64_t fp = 0;
    if (!read(magic, 8) || memcmp(magic, k_magic, 8) != 0 || !read(&fp, 8) || fp != fingerprint) return false;
    for (std::string * s : { &h.owner, &h.tag }) {
        uint32_t n = 0;
        if (!read(&n, 4) || n > k_max_string || raw.size() + n > file_size) return false;
        s->resize(n);
        if (n > 0 && !read(s->data(), n)) return false;
    }
    uint32_t n_tokens = 0;
    if (!read(&n_tokens, 4) || n_tokens > k_max_tokens || raw.size() + (uint64_t) n_tokens * 4 > file_size) return false;
    h.tokens.resize(n_tokens);
    if (n_tokens > 0 && !read(h.tokens.data(), (size_t) n_tokens * 4)) return false;
    return read(&h.data_bytes, 8);
}

}  // namespace

uint64_t kv_checksum(const uint8_t * data, size_t n, uint64_t seed) {
    uint64_t h = seed ^ 0x9E3779B97F4A7C15ull ^ (uint64_t) n;
    size_t   i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, data + i, 8);
        h ^= w;
        h *= 0xFF51AFD7ED558CCDull;
        h ^= h >> 29;
    }
    for (; i < n; ++i) {
        h ^= data[i];
        h *= 0x100000001B3ull;
    }
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 33);
}

void kv_file_write(const std::filesystem::path & path, uint64_t fingerprint, const kv_file_header & h,
                   const std::vector<uint8_t> & data) {
    std::string head(k_magic, 8);
    put_u64(head, fingerprint);
    put_u32(head, (uint32_t) h.owner.size());
    head += h.owner;
    put_u32(head, (uint32_t) h.tag.size());
    head += h.tag;
    put_u32(head, (uint32_t) h.tokens.size());
    head.append((const char *) h.tokens.data(), h.tokens.size() * 4);
    put_u64(head, (uint64_t) data.size());
    const uint64_t sum = kv_checksum(data.data(), data.size(), kv_checksum((const uint8_t *) head.data(), head.size()));

    std::filesystem::path tmp = path;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(head.data(), (std::streamsize) head.size());
        out.write((const char *) data.data(), (std::streamsize) data.size());
        out.write((const char *) &sum, 8);
        if (!out.flush()) {
            std::error_code ec;
            std::filesystem::remove(tmp, ec);
            throw runtime_error("cannot write the KV cache file " + tmp.string() + " (disk full?)");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        throw runtime_error("cannot move the KV cache file into place at " + path.string());
    }
}

// The header of a file whose size is what the header says (magic, lengths, fingerprint,
// cells, checksum); `raw` gets the header's bytes for the checksum. The data length is compared
// with what the file has left, not added to the header's size: a length near 2^64 wrapped that
// sum round to the file's size, and reading it asked for a vector larger than max_size (fuzz
// regression kv_file/data-length-wraps-past-file-size).
static bool header_checked(std::ifstream & in, const std::filesystem::path & path, uint64_t fingerprint,
                           kv_file_header & h, std::string & raw) {
    std::error_code ec;
    const auto      size = std::filesystem::file_size(path, ec);
    if (ec || !in || !header_read(in, fingerprint, size, h, raw)) return false;
    if (size < raw.size() + 8) return false;
    return h.data_bytes == size - raw.size() - 8;
}

std::optional<kv_file_header> kv_file_read_header(const std::filesystem::path & path, uint64_t fingerprint) {
    std::ifstream  in(path, std::ios::binary);
    kv_file_header h;
    std::string    raw;
    if (!header_checked(in, path, fingerprint, h, raw)) return std::nullopt;
    return h;
}

std::optional<std::pair<kv_file_header, std::vector<uint8_t>>> kv_file_read(const std::filesystem::path & path,
                                                                             uint64_t fingerprint) {
    std::ifstream  in(path, std::ios::binary);
    kv_file_header h;
    std::string    raw;
    if (!header_checked(in, path, fingerprint, h, raw)) return std::nullopt;
    std::vector<uint8_t> data(h.data_bytes);
    uint64_t             sum = 0;
    if (!in.read((char *) data.data(), (std::streamsize) data.size()) || !in.read((char *) &sum, 8)) return std::nullopt;
    if (sum != kv_checksum(data.data(), data.size(), kv_checksum((const uint8_t *) raw.data(), raw.size()))) {
        return std::nullopt;
    }
    return std::make_pair(std::move(h), std::move(data));
}

}  // namespace muse
