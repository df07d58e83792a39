// Fuzz target: a prefix-cache file on disk (src/engine/kv-file.h), which may be cut short or
// damaged after a crash or a full disk: kv_file_read_header (the index at start) and
// kv_file_read must refuse it or read it whole, never half. Seeds were written by kv_file_write
// with the fingerprint below.
#include "engine/kv-file.h"
#include "fuzz-util.h"

#include <cstring>

using namespace muse;

static constexpr uint64_t fuzz_fingerprint = 0x6d7573652d66757aull;  // "muse-fuz"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    static fuzz::fuzz_temp_file file("entry.kv");
    file.write(data, size);
    const auto header = kv_file_read_header(file.path(), fuzz_fingerprint);
    const auto whole  = kv_file_read(file.path(), fuzz_fingerprint);
    // A file whose header reads but whose cells do not check out: only the checksum may differ.
    if (whole && !header) abort();
    if (whole && (whole->first.tokens != header->tokens || whole->second.size() != header->data_bytes)) abort();
    return 0;
}
