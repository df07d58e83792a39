#pragma once
// Errors raised inside muse. They are converted once, at the boundary (CLI exit code, HTTP 4xx JSON).
#include <stdexcept>
#include <string>

namespace muse {

// Something the user gave us is wrong (a file, a flag, a prompt). The message names the input,
// the problem and the fix.
struct input_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The input is well-formed but over a size limit (bytes, pixels, seconds of audio).
struct limit_error : input_error {
    using input_error::input_error;
};

// The runtime failed while the input looked fine (out of memory, a decode error).
struct runtime_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace muse
