// Compiled for the build's own target: tells whether this CPU can run the AVX-512 code that
// the AMX-target test file holds (no AMX instruction runs there).
#include "llama-cpp/cpu_guard.h"

bool cpu_runs_avx512_code() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}
