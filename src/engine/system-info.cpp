#include "engine/system-info.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <thread>

#include "engine/build-version.h"
#include "engine/text-trim.h"
#include "ggml-backend.h"

namespace muse {

namespace {

// The x86 features that decide which ggml kernels can run, under /proc/cpuinfo's names
// (the kernel calls SSE3 "pni"; the report says sse3).
struct cpu_feature {
    const char * flag;  // in /proc/cpuinfo
    const char * name;  // in the report
};
constexpr cpu_feature k_cpu_features[] = {
    { "pni", "sse3" },
    { "ssse3", "ssse3" },
    { "sse4_1", "sse4_1" },
    { "sse4_2", "sse4_2" },
    { "avx", "avx" },
    { "avx2", "avx2" },
    { "fma", "fma" },
    { "f16c", "f16c" },
    { "bmi2", "bmi2" },
    { "avx_vnni", "avx_vnni" },
    { "avx512f", "avx512f" },
    { "avx512dq", "avx512dq" },
    { "avx512cd", "avx512cd" },
    { "avx512bw", "avx512bw" },
    { "avx512vl", "avx512vl" },
    { "avx512vbmi", "avx512vbmi" },
    { "avx512_vnni", "avx512_vnni" },
    { "avx512_bf16", "avx512_bf16" },
    { "avx512_fp16", "avx512_fp16" },
    { "amx_tile", "amx_tile" },
    { "amx_int8", "amx_int8" },
    { "amx_bf16", "amx_bf16" },
    { "amx_fp16", "amx_fp16" },
};

// The ggml CPU features that mean "compiled for this instruction set" (ggml-cpu.c tests the
// compiler's __AVX512F__ etc.), and the CPU feature each one needs.
struct kernel_need {
    const char * kernel;
    const char * feature;
};
constexpr kernel_need k_kernel_needs[] = {
    { "SSE3", "sse3" },
    { "SSSE3", "ssse3" },
    { "AVX", "avx" },
    { "AVX_VNNI", "avx_vnni" },
    { "AVX2", "avx2" },
    { "F16C", "f16c" },
    { "FMA", "fma" },
    { "BMI2", "bmi2" },
    { "AVX512", "avx512f" },
    { "AVX512_VBMI", "avx512vbmi" },
    { "AVX512_VNNI", "avx512_vnni" },
    { "AVX512_BF16", "avx512_bf16" },
    { "AMX_INT8", "amx_int8" },
};

// The first processor's "model name" and "flags" (every core of one machine has the same).
void cpu_read(system_info & s) {
    std::ifstream in("/proc/cpuinfo");
    std::string   line;
    std::string   flags;
    bool          have_flags = false;
    while ((s.cpu_model.empty() || !have_flags) && std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos)
            continue;
        const std::string key = trim(line.substr(0, colon));
        if (key == "model name" && s.cpu_model.empty()) {
            s.cpu_model = trim(line.substr(colon + 1));
        } else if (key == "flags" && !have_flags) {
            flags      = " " + trim(line.substr(colon + 1)) + " ";
            have_flags = true;
        }
    }
    if (s.cpu_model.empty())
        s.cpu_model = "unknown";
    for (const auto & f : k_cpu_features) {
        if (flags.find(std::string(" ") + f.flag + " ") != std::string::npos)
            s.cpu_features.emplace_back(f.name);
    }
}

// What ggml's CPU backend reports through the registry, as llama_print_system_info reads it.
void kernels_read(system_info & s) {
    ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (!dev)
        return;
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(dev);
    auto               get_features =
        (ggml_backend_get_features_t)ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features");
    if (get_features) {
        for (ggml_backend_feature * f = get_features(reg); f->name; ++f) {
            const std::string value = f->value ? f->value : "";
            s.kernels_built.push_back(value == "1" ? std::string(f->name) : std::string(f->name) + "=" + value);
        }
    }
    // The extra buffer types hold weights repacked for a kernel (AMX tiles, interleaved
    // AVX rows); ggml lists only those that work here (AMX needs the OS to grant tile state).
    auto get_extra =
        (ggml_backend_dev_get_extra_bufts_t)ggml_backend_reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts");
    if (get_extra) {
        for (ggml_backend_buffer_type_t * b = get_extra(dev); b && *b; ++b) {
            s.kernels_in_use.emplace_back(ggml_backend_buft_name(*b));
        }
    }
}

std::string join(const std::vector<std::string> & list, const char * none) {
    if (list.empty())
        return none;
    std::string out;
    for (const auto & x : list)
        out += (out.empty() ? "" : " ") + x;
    return out;
}

}  // namespace

bool system_info_has(const std::vector<std::string> & list, const std::string & name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

system_info system_info_read_cpu() {
    system_info s;
    s.version          = MUSE_VERSION;
    s.commit           = MUSE_GIT_COMMIT;
    s.llama_cpp_commit = MUSE_LLAMA_CPP_COMMIT;
    struct patch_row {
        const char * name;
        int          applied;
    };
    for (const patch_row & p : std::initializer_list<patch_row> MUSE_LLAMA_CPP_PATCHES) {
        s.llama_cpp_patches.push_back({ p.name, p.applied });
    }

    cpu_read(s);
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    s.logical_cores   = online > 0 ? (int32_t)online : 0;
    s.threads_default = (int32_t)std::max(1u, std::thread::hardware_concurrency());
    return s;
}

void system_info_read_kernels(system_info & s) {
    kernels_read(s);
    // On x86 only: elsewhere /proc/cpuinfo has no such flags and the table does not apply.
#if defined(__x86_64__) || defined(__i386__)
    for (const auto & n : k_kernel_needs) {
        if (system_info_has(s.kernels_built, n.kernel) && !system_info_has(s.cpu_features, n.feature)) {
            s.cpu_lacks.emplace_back(n.feature);
        }
    }
#endif
}

system_info system_info_read() {
    system_info s = system_info_read_cpu();
    system_info_read_kernels(s);
    return s;
}

std::string system_info_version(const system_info & s) {
    std::string out = "muse " + s.version + " (";
    if (!s.commit.empty())
        out += s.commit + ", ";
    out += "llama.cpp " + s.llama_cpp_commit.substr(0, 7);
    int applied = 0;
    for (const auto & p : s.llama_cpp_patches)
        applied += p.applied == 1;
    if (applied > 0)
        out += " +" + std::to_string(applied) + (applied == 1 ? " patch" : " patches");
    return out + ")";
}

std::string system_info_summary(const system_info & s) {
    std::ostringstream o;
    o << system_info_version(s) << " on " << s.cpu_model << ": " << join(s.cpu_features, "no x86 features");
    // Empty before system_info_read_kernels (ggml always reports something).
    if (!s.kernels_built.empty() || !s.kernels_in_use.empty()) {
        o << " | kernels: " << join(s.kernels_built, "none") << " | buffers: " << join(s.kernels_in_use, "none");
    }
    if (!s.cpu_lacks.empty())
        o << " | BUILT FOR FEATURES THIS CPU LACKS: " << join(s.cpu_lacks, "");
    return o.str();
}

}  // namespace muse
