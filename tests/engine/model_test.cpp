// Each test model loads and reports what it is; broken files fail with a clear error.
#include "engine/error.h"
#include "test-util.h"

#include <filesystem>
#include <fstream>
#include <random>

using namespace muse;
using namespace muse::test;

namespace {

std::vector<char> file_bytes(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string file_write(const std::string & name, const std::vector<char> & bytes) {
    const auto path = (std::filesystem::temp_directory_path() / ("muse-test-" + name)).string();
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), (std::streamsize) bytes.size());
    return path;
}

// Loading must throw input_error whose message names the file.
void expect_load_error(const std::string & path, const std::string & what) {
    model_params p;
    p.path = path;
    try {
        model m(test_backend(), p);
        FAIL() << what << ": loaded without an error";
    } catch (const input_error & e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

}  // namespace

TEST(model, every_tiny_model_loads_with_metadata) {
    for (const auto & file : tiny_models()) {
        auto m = model_open(test_backend(), file);
        const auto & i = m->info();
        EXPECT_FALSE(i.arch.empty()) << file;
        EXPECT_GT(i.n_params, 0u) << file;
        EXPECT_GT(i.n_ctx_train, 0) << file;
        EXPECT_GT(i.n_vocab, 1000) << file << ": a real tokenizer, not a toy vocabulary";
        EXPECT_FALSE(i.chat_template.empty()) << file;
    }
}

TEST(model, architectures_and_capabilities) {
    auto llama = model_open(test_backend(), "llama-tiny.gguf");
    EXPECT_EQ(llama->info().arch, "llama");
    auto qwen = model_open(test_backend(), "qwen3-tiny.gguf");
    EXPECT_EQ(qwen->info().arch, "qwen3");
    EXPECT_TRUE(qwen->info().has_reasoning);
    EXPECT_TRUE(qwen->info().has_tools);
    auto glimmer = model_open(test_backend(), "muse-glimmer-tiny.gguf", "muse-glimmer-tiny-mmproj.gguf");
    EXPECT_EQ(glimmer->info().arch, "muse-glimmer");
    EXPECT_TRUE(glimmer->info().has_vision);
    EXPECT_FALSE(glimmer->info().has_audio);
    EXPECT_TRUE(glimmer->info().has_tools);
    EXPECT_FALSE(llama->info().has_vision);
}

TEST(model, missing_and_empty_files) {
    expect_load_error("/nonexistent/model.gguf", "missing file");
    expect_load_error(file_write("empty.gguf", {}), "zero-byte file");
    expect_load_error(std::filesystem::temp_directory_path().string(), "a folder");
}

TEST(model, wrong_magic) {
    auto bytes = file_bytes(model_path("llama-tiny.gguf"));
    bytes[0]   = 'X';
    expect_load_error(file_write("magic.gguf", bytes), "wrong magic");
    expect_load_error(file_write("text.gguf", { 'h', 'e', 'l', 'l', 'o', '\n' }), "a text file");
}

TEST(model, truncated_files) {
    const auto bytes = file_bytes(model_path("llama-tiny.gguf"));
    for (size_t keep : { (size_t) 16, (size_t) 100, (size_t) 4096, bytes.size() / 2, bytes.size() - 1 }) {
        std::vector<char> cut(bytes.begin(), bytes.begin() + (std::ptrdiff_t) keep);
        expect_load_error(file_write("truncated.gguf", cut), "truncated to " + std::to_string(keep) + " bytes");
    }
}

// Flipped bits in the header (key/value counts, lengths, types, tensor shapes and offsets)
// must give an error or a working model, never a crash. The sanitizer build runs this too.
TEST(model, bit_flipped_headers_never_crash) {
    const auto   bytes = file_bytes(model_path("llama-tiny.gguf"));
    std::mt19937 rng(1234);
    // Flip within the first 64 KiB: magic, version, counts, metadata and tensor infos.
    std::uniform_int_distribution<size_t> pos(4, std::min<size_t>(bytes.size(), 65536) - 1);
    int n_errors = 0;
    for (int i = 0; i < 40; ++i) {
        auto copy = bytes;
        const size_t at = pos(rng);
        copy[at] = (char) (copy[at] ^ (1 << (rng() % 8)));
        const auto path = file_write("flip.gguf", copy);
        model_params p;
        p.path = path;
        try {
            model m(test_backend(), p);
        } catch (const input_error & e) {
            n_errors++;
            EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
        }
    }
    SUCCEED() << n_errors << " of 40 flips were refused";
}

TEST(model, version_field_flip_is_refused) {
    auto bytes = file_bytes(model_path("llama-tiny.gguf"));
    bytes[4]   = (char) 0x7f;  // GGUF version 127 does not exist
    expect_load_error(file_write("version.gguf", bytes), "unknown version");
}
