// Prefix-cache files from disk are untrusted bytes (a full disk, a crash mid-write, someone
// else's file): every damaged variant is refused, never half read, and never crashes (this
// runs under ASan+UBSan too).
#include "engine/kv-file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>

using namespace muse;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path & p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_all(const fs::path & p, const std::string & s) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(s.data(), (std::streamsize) s.size());
}

}  // namespace

TEST(kv_file, round_trip_and_every_damage_refused) {
    const fs::path dir = fs::temp_directory_path() / ("muse-kv-file-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path       path = dir / "a.kv";
    std::vector<uint8_t> cells(5000);
    std::mt19937         rng(3);
    for (auto & b : cells) b = (uint8_t) rng();
    const kv_file_header h{ "alice", "conv_1", { 1, 2, 3, 4, 5 }, cells.size() };
    kv_file_write(path, 42, h, cells);

    const auto back = kv_file_read(path, 42);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->first.owner, "alice");
    EXPECT_EQ(back->first.tag, "conv_1");
    EXPECT_EQ(back->first.tokens, h.tokens);
    EXPECT_EQ(back->second, cells);
    ASSERT_TRUE(kv_file_read_header(path, 42).has_value());
    EXPECT_FALSE(kv_file_read(path, 43).has_value()) << "another model's file was read";
    EXPECT_FALSE(kv_file_read_header(path, 43).has_value());

    const std::string good = read_all(path);
    // Every single-byte change, cut and extension is refused.
    for (size_t i = 0; i < good.size(); i += 97) {
        std::string bad = good;
        bad[i] ^= 0x5a;
        write_all(path, bad);
        EXPECT_FALSE(kv_file_read(path, 42).has_value()) << "a byte changed at " << i;
    }
    for (size_t n : { (size_t) 0, (size_t) 7, (size_t) 20, good.size() / 2, good.size() - 1 }) {
        write_all(path, good.substr(0, n));
        EXPECT_FALSE(kv_file_read(path, 42).has_value()) << "cut at " << n;
        EXPECT_FALSE(kv_file_read_header(path, 42).has_value()) << "cut at " << n;
    }
    write_all(path, good + "x");
    EXPECT_FALSE(kv_file_read(path, 42).has_value()) << "a byte added";
    // Lengths that claim more than the file holds (a token count of 2^31).
    std::string huge = good;
    const size_t at = 8 + 8 + 4 + 5 + 4 + 6;  // magic, fingerprint, owner, tag: the token count
    huge[at + 3]    = 0x7f;
    write_all(path, huge);
    EXPECT_FALSE(kv_file_read(path, 42).has_value());
    // A data length near 2^64 that wraps "header + data + checksum" round to the file's size.
    std::string wrap = good.substr(0, at + 4 + 5 * 4);  // up to the data length
    const uint64_t wrapped = ~(uint64_t) 0 - 3;          // header + 8 + this == header + 4 (mod 2^64)
    wrap.append((const char *) &wrapped, 8);
    wrap.append(4, '\0');
    write_all(path, wrap);
    EXPECT_FALSE(kv_file_read_header(path, 42).has_value()) << "a wrapped data length";
    EXPECT_FALSE(kv_file_read(path, 42).has_value()) << "a wrapped data length";
    write_all(path, std::string(10000, '\0'));
    EXPECT_FALSE(kv_file_read(path, 42).has_value()) << "zeros";
    EXPECT_FALSE(kv_file_read(dir / "missing.kv", 42).has_value());
    fs::remove_all(dir);
}
