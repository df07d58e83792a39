// The AMX tile configuration that ggml-cpu loads before its tile kernels
// (scripts/llama-cpp-patches/0001-amx-tile-config-in-rodata.patch).
//
// This file includes the tree's ggml-cpu/amx/mmq.cpp, compiled for an AMX target
// (-march=sapphirerapids, what a native build on such a CPU uses), with the AMX instructions
// taken out of GCC's tile macros while their asm operands stay as they are: the compiler sees
// what it sees in the real build and may drop the same stores, but nothing needs an AMX CPU.
// `ldtilecfg` becomes a copy of the 64 bytes it would read (through the same 8-byte "m"
// operand as GCC's _tile_loadconfig), the other tile instructions become empty. The test runs
// the real kernel entry, ggml_backend_amx_mul_mat, on a Q8_0 matrix product of 32 rows (the
// tile path, where the configuration is inlined into the kernel's loop), and checks the bytes
// ldtilecfg would have loaded. Without the patch, GCC 12 at -O3 leaves every row and column
// count at 0 (the SIGILL at `tilezero` on Sapphire Rapids), so this fails on any x86-64
// machine with AVX-512.
#include <immintrin.h>  // first: its _tile_loadconfig is defined before the macro below

#include <cstdint>
#include <cstring>

namespace muse_test {
struct tile_bytes {
    uint8_t b[64];
};
tile_bytes captured;  // what the last "ldtilecfg" would have loaded
int        loads;     // how many ran
}  // namespace muse_test

// GCC 12 (amxtileintrin.h, amxint8intrin.h): the same operands and clobbers, no instruction.
#if !defined(_tile_loadd_internal) || !defined(_tile_stored_internal) || !defined(_tile_zero_internal) || \
    !defined(_tile_int8_dp_internal)
#error "this compiler's AMX intrinsics are not GCC's tile macros that this test mirrors"
#endif
// _tile_loadconfig: __asm__ volatile ("ldtilecfg\t%X0" :: "m" (*((const void **)__config)));
#define _tile_loadconfig(config)                                                                    \
    do {                                                                                            \
        __asm__ volatile("lea %1, %%rsi\n\tlea %0, %%rdi\n\tmov $64, %%ecx\n\trep movsb"              \
                         : "=m"(muse_test::captured)                                                 \
                         : "m"(*((const void **) (config)))                                          \
                         : "rsi", "rdi", "rcx");                                                     \
        muse_test::loads++;                                                                          \
    } while (0)
#undef _tile_loadd_internal
#define _tile_loadd_internal(dst, base, stride) __asm__ volatile("" ::"r"((const void *) (base)), "r"((long) (stride)))
#undef _tile_stored_internal
#define _tile_stored_internal(src, base, stride) \
    __asm__ volatile("" ::"r"((void *) (base)), "r"((long) (stride)) : "memory")
#undef _tile_zero_internal
#define _tile_zero_internal(dst) __asm__ volatile("" ::)
#undef _tile_int8_dp_internal
#define _tile_int8_dp_internal(name, dst, src1, src2) __asm__ volatile("" ::)

#include "ggml-cpu/amx/mmq.cpp"

#include "ggml-cpu.h"
#include "llama-cpp/cpu_guard.h"

#include <gtest/gtest.h>
#include <memory>
#include <vector>

#if !defined(__AMX_INT8__) || !defined(__AVX512VNNI__)
#error "this test must be built for an AMX target (tests/CMakeLists.txt adds -march=sapphirerapids)"
#endif

TEST(amx_tile_config, the_q8_0_kernel_loads_the_configuration_it_uses) {
    if (!cpu_runs_avx512_code()) {
        GTEST_SKIP() << "this CPU has no AVX-512: the file built for an AMX target cannot run here";
    }
    // x (32 x 64, f32) times w (64 x 64, Q8_0): more than one row takes the tile path.
    const int K = 64, N = 64, M = 32;
    ggml_init_params ip = { 4u << 20, nullptr, false };
    std::unique_ptr<ggml_context, decltype(&ggml_free)> ctx(ggml_init(ip), ggml_free);
    ASSERT_TRUE(ctx);
    ggml_tensor * w = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_Q8_0, K, N);
    ggml_tensor * x = ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, K, M);
    ggml_tensor * y = ggml_mul_mat(ctx.get(), w, x);
    std::memset(w->data, 0, ggml_nbytes(w));
    std::memset(x->data, 0, ggml_nbytes(x));

    ggml_threadpool_params tpp = ggml_threadpool_params_default(1);
    std::unique_ptr<ggml_threadpool, decltype(&ggml_threadpool_free)> pool(ggml_threadpool_new(&tpp), ggml_threadpool_free);
    std::vector<char>   work(ggml_backend_amx_desired_wsize(y) + 64);
    ggml_compute_params params = {};
    params.ith        = 0;
    params.nth        = 1;
    params.wsize      = work.size();
    params.wdata      = work.data();
    params.threadpool = pool.get();

    std::memset(&muse_test::captured, 0xAB, sizeof(muse_test::captured));
    ggml_backend_amx_mul_mat(&params, y);
    ASSERT_EQ(muse_test::loads, 1) << "the kernel did not load a tile configuration";

    // The layout tinygemm_kernel_amx assumes (mmq.cpp's notes): B in TMM0-1 (8 rows of 64
    // bytes), A in TMM2-3 (16 x 32), C in TMM4-7 (16 x 64).
    const uint8_t  rows[8]  = { 8, 8, 16, 16, 16, 16, 16, 16 };
    const uint16_t colsb[8] = { 64, 64, 32, 32, 64, 64, 64, 64 };
    const uint8_t * b = muse_test::captured.b;
    EXPECT_EQ(b[0], 1) << "palette_id";
    EXPECT_EQ(b[1], 0) << "start_row";
    for (int t = 0; t < 16; ++t) {
        uint16_t c;
        std::memcpy(&c, b + 16 + 2 * t, 2);
        EXPECT_EQ(b[48 + t], t < 8 ? rows[t] : 0)
            << "rows of tile " << t << " (0 for a used tile: the configuration's stores were dropped)";
        EXPECT_EQ(c, t < 8 ? colsb[t] : 0) << "bytes per row of tile " << t;
    }
}
