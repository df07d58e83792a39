#pragma once
// A prefix cache entry spilled to disk: the KV cells of one sequence (llama.cpp's own
// sequence state), the tokens they hold and whose they are, in one checksummed file. A file
// that is cut short, damaged or of another model is refused, never half read.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace muse {

struct kv_file_header {
    std::string          owner;  // whose cells these are ("" for none)
    std::string          tag;    // e.g. a conversation id
    std::vector<int32_t> tokens;
    uint64_t             data_bytes = 0;
};

// 64-bit checksum of a byte range (word at a time; not cryptographic: it finds damage).
uint64_t kv_checksum(const uint8_t * data, size_t n, uint64_t seed = 0);

// Writes atomically (a temporary file, then a rename). Throws runtime_error on I/O errors.
void kv_file_write(const std::filesystem::path & path, uint64_t fingerprint, const kv_file_header & header,
                   const std::vector<uint8_t> & data);

// The header alone (for the index at start), or nullopt when the file is not a whole kv file
// of this `fingerprint`.
std::optional<kv_file_header> kv_file_read_header(const std::filesystem::path & path, uint64_t fingerprint);

// Header and cells, or nullopt when anything in the file does not check out (checksum,
// lengths, fingerprint).
std::optional<std::pair<kv_file_header, std::vector<uint8_t>>> kv_file_read(const std::filesystem::path & path,
                                                                             uint64_t fingerprint);

}  // namespace muse
