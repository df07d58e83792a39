#pragma once
// A GGUF file under construction: metadata keys plus planned tensors whose contents are
// drawn from a seeded generator while the file is written, so a 2 GB model never needs
// 2 GB of memory.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "ggml-cpp.h"
#include "ggml.h"
#include "gguf.h"

namespace muse::tools {

// Each value is mean + stdev * noise, noise roughly normal with unit variance and bounded
// to +-3.5; stdev 0 gives a constant tensor.
struct tensor_init {
    float mean  = 0.0f;
    float stdev = 0.0f;
};

inline tensor_init init_weight(float stdev) {
    return { 0.0f, stdev };
}

// RMS / layer norm gains near 1.
inline tensor_init init_norm() {
    return { 1.0f, 0.01f };
}

inline tensor_init init_bias() {
    return { 0.0f, 0.01f };
}

inline tensor_init init_const(float value) {
    return { value, 0.0f };
}

class model_file {
  public:
    // `seed` and the tensor's name pick each tensor's values, so files are reproducible
    // and adding a tensor does not change the others.
    explicit model_file(uint64_t seed);

    gguf_context * meta() { return meta_.get(); }

    void set_str(const std::string & key, const std::string & value);
    void set_u32(const std::string & key, uint32_t value);
    void set_f32(const std::string & key, float value);
    void set_bool(const std::string & key, bool value);
    void set_arr_bool(const std::string & key, const std::vector<bool> & values);
    void set_arr_f32(const std::string & key, const std::vector<float> & values);

    // ne in ggml order: ne[0] is the row length (the input dimension of a matmul weight).
    void tensor_add(const std::string & name, ggml_type type, const std::vector<int64_t> & ne, tensor_init init);

    uint64_t n_params() const { return n_params_; }
    uint64_t n_bytes() const;

    // Writes to a temporary file next to `path`, then renames it into place, so a
    // reader never sees half a model. Prints progress per tensor group when `verbose`.
    void write(const std::filesystem::path & path, bool verbose) const;

  private:
    struct planned_tensor {
        std::string name;
        ggml_type   type;
        int64_t     n_per_row;
        int64_t     n_rows;
        tensor_init init;
    };

    void tensor_data_write(FILE * out, const planned_tensor & t, const std::filesystem::path & file) const;

    uint64_t                    seed_;
    gguf_context_ptr            meta_;
    std::vector<planned_tensor> tensors_;
    uint64_t                    n_params_ = 0;
};

}  // namespace muse::tools
