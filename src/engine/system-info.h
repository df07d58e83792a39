#pragma once
// The machine muse runs on and the build it runs: the CPU and the x86 features that decide
// which kernels can run, the ggml CPU kernels compiled into this binary and the ones in use,
// muse's version and the llama.cpp tree under it. Read once at start; `muse info --system`,
// /health (for admins), /metrics and the fatal-signal report print it. A binary built with
// -march=native on one CPU dies with SIGILL on a CPU without those features: `cpu_lacks`
// names them before that happens.
#include <cstdint>
#include <string>
#include <vector>

namespace muse {

struct llama_cpp_patch {
    std::string name;          // scripts/llama-cpp-patches/NAME.patch
    int         applied = -1;  // 1 applied, 0 not, -1 unknown (no git at configure time)
};

struct system_info {
    std::string                  version;           // CMake's project version, "0.1.0"
    std::string                  commit;            // muse's git short commit at configure time, or ""
    std::string                  llama_cpp_commit;  // full hash, or "unknown"
    std::vector<llama_cpp_patch> llama_cpp_patches;

    std::string              cpu_model;     // /proc/cpuinfo "model name", or "unknown"
    std::vector<std::string> cpu_features;  // the x86 features that matter to ggml, as /proc/cpuinfo names them
    std::vector<std::string> cpu_lacks;     // features the built kernels use that this CPU lacks
    int32_t                  logical_cores   = 0;
    int32_t                  threads_default = 0;  // what -t 0 means (engine/session.cpp)

    std::vector<std::string> kernels_built;   // ggml CPU backend features: "AVX512", "AMX_INT8", "REPACK"
    std::vector<std::string> kernels_in_use;  // the CPU device's extra buffer types: "AMX", "CPU_REPACK"
};

// All of it. ggml's CPU code runs to report the kernels: a binary built for another CPU may
// die there (SIGILL), so a fault handler reads the rest first.
system_info system_info_read();
// Everything but the kernels (and cpu_lacks): runs no ggml code.
system_info system_info_read_cpu();
// Adds the kernels built and in use, and cpu_lacks.
void system_info_read_kernels(system_info & s);

bool system_info_has(const std::vector<std::string> & list, const std::string & name);

// "muse 0.1.0 (abc1234, llama.cpp de3ff81)"
std::string system_info_version(const system_info & s);

// One line: "muse 0.1.0 (abc1234, llama.cpp de3ff81) on AMD EPYC 9654: avx2 avx512f ... |
// kernels: AVX512 REPACK | buffers: CPU_REPACK", and what the CPU lacks, if anything.
std::string system_info_summary(const system_info & s);

}  // namespace muse
