#include "model-file.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace muse::tools {

namespace {

// splitmix64: tiny, fast and the same on every platform, unlike std::normal_distribution,
// whose output differs between standard libraries.
uint64_t random_next(uint64_t & state) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z          = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// Sum of four 16-bit uniforms (Irwin-Hall): bell-shaped, unit variance, and bounded, so a
// random model has no outlier weights that push activations to infinity.
float random_noise(uint64_t & state) {
    const uint64_t r = random_next(state);
    const int64_t  sum =
        (int64_t)(r & 0xffff) + (int64_t)((r >> 16) & 0xffff) + (int64_t)((r >> 32) & 0xffff) + (int64_t)(r >> 48);
    const float inv_stdev = 1.0f / 37837.23f;  // sqrt(4 * (65536^2 - 1) / 12)
    return (float)(sum - 131070) * inv_stdev;
}

uint64_t name_hash(const std::string & name) {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
    for (unsigned char c : name) {
        h = (h ^ c) * 0x100000001b3ull;
    }
    return h;
}

// "blk.3.attn_q.weight" -> "blk.3", "v.blk.0.ln1.bias" -> "v.blk.0", else the name itself.
std::string tensor_group(const std::string & name) {
    const size_t pos = name.find("blk.");
    if (pos == std::string::npos) {
        return name;
    }
    return name.substr(0, name.find('.', pos + 4));
}

struct file_closer {
    void operator()(FILE * f) const { fclose(f); }
};

using file_ptr = std::unique_ptr<FILE, file_closer>;

// Removes the temporary file unless the write got as far as renaming it into place.
class temp_file_guard {
  public:
    explicit temp_file_guard(std::filesystem::path path) : path_(std::move(path)) {}

    ~temp_file_guard() {
        if (!committed_) {
            std::error_code ec;
            std::filesystem::remove(path_, ec);
        }
    }

    temp_file_guard(const temp_file_guard &)             = delete;
    temp_file_guard & operator=(const temp_file_guard &) = delete;

    void commit() { committed_ = true; }

  private:
    std::filesystem::path path_;
    bool                  committed_ = false;
};

void bytes_write(FILE * out, const void * data, size_t n, const std::filesystem::path & file) {
    if (n > 0 && fwrite(data, 1, n, out) != n) {
        throw std::runtime_error("cannot write " + file.string() + ": " + std::strerror(errno) +
                                 "; check free disk space");
    }
}

}  // namespace

model_file::model_file(uint64_t seed) : seed_(seed), meta_(gguf_init_empty()) {}

void model_file::set_str(const std::string & key, const std::string & value) {
    gguf_set_val_str(meta_.get(), key.c_str(), value.c_str());
}

void model_file::set_u32(const std::string & key, uint32_t value) {
    gguf_set_val_u32(meta_.get(), key.c_str(), value);
}

void model_file::set_f32(const std::string & key, float value) {
    gguf_set_val_f32(meta_.get(), key.c_str(), value);
}

void model_file::set_bool(const std::string & key, bool value) {
    gguf_set_val_bool(meta_.get(), key.c_str(), value);
}

void model_file::set_arr_bool(const std::string & key, const std::vector<bool> & values) {
    std::vector<int8_t> bytes(values.begin(), values.end());
    gguf_set_arr_data(meta_.get(), key.c_str(), GGUF_TYPE_BOOL, bytes.data(), bytes.size());
}

void model_file::set_arr_f32(const std::string & key, const std::vector<float> & values) {
    gguf_set_arr_data(meta_.get(), key.c_str(), GGUF_TYPE_FLOAT32, values.data(), values.size());
}

void model_file::tensor_add(const std::string & name, ggml_type type, const std::vector<int64_t> & ne,
                            tensor_init init) {
    if (ne.empty() || ne.size() > GGML_MAX_DIMS || name.size() >= GGML_MAX_NAME) {
        throw std::logic_error("tensor " + name + ": bad shape or name");
    }
    if (ne[0] % ggml_blck_size(type) != 0) {
        throw std::logic_error("tensor " + name + ": row of " + std::to_string(ne[0]) + " does not fit " +
                               ggml_type_name(type) + " blocks");
    }

    // gguf_add_tensor copies the tensor's description, so a throwaway context will do.
    const ggml_init_params params = { ggml_tensor_overhead(), nullptr, /*no_alloc =*/true };
    ggml_context_ptr       ctx(ggml_init(params));
    ggml_tensor *          t = ggml_new_tensor(ctx.get(), type, (int)ne.size(), ne.data());
    ggml_set_name(t, name.c_str());
    gguf_add_tensor(meta_.get(), t);

    const int64_t n = ggml_nelements(t);
    tensors_.push_back({ name, type, ne[0], n / ne[0], init });
    n_params_ += (uint64_t)n;
}

uint64_t model_file::n_bytes() const {
    uint64_t n = gguf_get_meta_size(meta_.get());
    for (int64_t i = 0; i < gguf_get_n_tensors(meta_.get()); i++) {
        n += GGML_PAD(gguf_get_tensor_size(meta_.get(), i), gguf_get_alignment(meta_.get()));
    }
    return n;
}

void model_file::tensor_data_write(FILE * out, const planned_tensor & t, const std::filesystem::path & file) const {
    // Rows are generated a few MB at a time; the row count per chunk never splits a row,
    // which the quantizers need.
    const int64_t chunk_rows = std::max<int64_t>(1, (int64_t { 1 } << 20) / t.n_per_row);
    const size_t  row_bytes  = ggml_row_size(t.type, t.n_per_row);

    std::vector<float>   values((size_t)(chunk_rows * t.n_per_row));
    std::vector<uint8_t> encoded((size_t)chunk_rows * row_bytes);

    uint64_t state = seed_ ^ name_hash(t.name);
    for (int64_t row = 0; row < t.n_rows; row += chunk_rows) {
        const int64_t rows = std::min(chunk_rows, t.n_rows - row);
        const int64_t n    = rows * t.n_per_row;
        for (int64_t i = 0; i < n; i++) {
            values[(size_t)i] = t.init.stdev == 0.0f ? t.init.mean : t.init.mean + t.init.stdev * random_noise(state);
        }

        switch (t.type) {
            case GGML_TYPE_F32:
                std::memcpy(encoded.data(), values.data(), (size_t)n * sizeof(float));
                break;
            case GGML_TYPE_F16:
                ggml_fp32_to_fp16_row(values.data(), (ggml_fp16_t *)encoded.data(), n);
                break;
            default:
                ggml_quantize_chunk(t.type, values.data(), encoded.data(), 0, rows, t.n_per_row, nullptr);
                break;
        }
        bytes_write(out, encoded.data(), (size_t)rows * row_bytes, file);
    }
}

void model_file::write(const std::filesystem::path & path, bool verbose) const {
    const auto      started = std::chrono::steady_clock::now();
    const auto      tmp     = path.parent_path() / (path.filename().string() + ".tmp-" + std::to_string(getpid()));
    temp_file_guard guard(tmp);

    std::vector<char> io_buffer(size_t { 4 } << 20);  // declared first: it must outlive the FILE
    file_ptr          out(fopen(tmp.c_str(), "wb"));
    if (!out) {
        throw std::runtime_error("cannot create " + tmp.string() + ": " + std::strerror(errno) +
                                 "; pass --out with a writable directory");
    }
    setvbuf(out.get(), io_buffer.data(), _IOFBF, io_buffer.size());

    std::vector<uint8_t> header(gguf_get_meta_size(meta_.get()));
    gguf_get_meta_data(meta_.get(), header.data());
    bytes_write(out.get(), header.data(), header.size(), tmp);

    const size_t               alignment = gguf_get_alignment(meta_.get());
    const double               total_mib = (double)n_bytes() / (1024.0 * 1024.0);
    const std::vector<uint8_t> zeros(alignment, 0);
    size_t                     offset = 0;
    std::string                group;
    for (size_t i = 0; i < tensors_.size(); i++) {
        const planned_tensor & t = tensors_[i];
        if (offset != gguf_get_tensor_offset(meta_.get(), (int64_t)i)) {
            throw std::logic_error("tensor " + t.name + ": data offset disagrees with the GGUF header");
        }
        if (verbose && tensor_group(t.name) != group) {
            group                = tensor_group(t.name);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            fprintf(stderr, "  %s: %-20s %7.1f / %.1f MiB  %6.1f s\n", path.filename().c_str(), group.c_str(),
                    (double)offset / (1024.0 * 1024.0), total_mib, seconds);
        }
        tensor_data_write(out.get(), t, tmp);
        const size_t size = gguf_get_tensor_size(meta_.get(), (int64_t)i);
        bytes_write(out.get(), zeros.data(), GGML_PAD(size, alignment) - size, tmp);
        offset += GGML_PAD(size, alignment);
    }

    if (fflush(out.get()) != 0 || fclose(out.release()) != 0) {
        throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno) +
                                 "; check free disk space");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        throw std::runtime_error("cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
    }
    guard.commit();
}

}  // namespace muse::tools
